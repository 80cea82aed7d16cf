"""Status of one ticket and "my tickets": the bot's record, and the tracker's live view when it has one."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from bot.errors import TicketingError
from bot.flows.base import TurnContext
from bot.flows.ticket_escalation import TicketingProvider
from bot.messages import Button, Outcome, Reply
from integrations.ticketing.base import RemoteTicket, TicketingBackend
from integrations.ticketing.models import Ticket
from integrations.ticketing.service import KEY_RE, find_ticket, is_participant, tickets_of
from integrations.ticketing.texts import ago, status_words

log = logging.getLogger(__name__)

KEY_ENTITIES = ("ticket_key", "ticket_id", "ticket", "issue_key", "key")
CHECK_THE_KEY = "Check the key (it looks like IT-123), or ask for “my tickets”."


def not_found(key: str) -> Reply:
    """The one answer for a ticket that does not exist, is not the employee's, or the tracker cannot say.

    The three read exactly the same, so an employee cannot learn which keys exist.
    """
    shown = key if KEY_RE.fullmatch(key) else "with that key"
    return _info(f"I can't find ticket {shown} among your tickets. {CHECK_THE_KEY}")


def _info(text: str, *, ticket_key: str | None = None, ticket_url: str | None = None) -> Reply:
    return Reply(text=text, outcome=Outcome.INFO, private=True, ticket_key=ticket_key, ticket_url=ticket_url)


def not_yours(key: str) -> Reply:
    """The refusal for a ticket the employee neither reported nor takes part in: reads as "not found"."""
    return not_found(key)


@dataclass(frozen=True)
class _View:
    """What the status reply shows: the tracker's live state, else the bot's record."""

    summary: str
    status: str
    category: str
    assignee: str | None
    resolution: str | None
    updated: dt.datetime | None
    url: str | None

    @classmethod
    def of(cls, ticket: Ticket | None, remote: RemoteTicket | None) -> _View:
        if remote is not None:
            updated = remote.updated or (ticket.updated_at if ticket else None)
            return cls(remote.summary, remote.status, remote.status_category, remote.assignee,
                       remote.resolution, updated, remote.url)
        assert ticket is not None
        return cls(ticket.summary, ticket.status, ticket.status_category, ticket.assignee, ticket.resolution,
                   ticket.updated_at, ticket.url)


class TicketStatus:
    """Answers "status of IT-12" and "my tickets" for the employee's own tickets only."""

    def __init__(self, *, ticketing: TicketingProvider, key_prefix: str) -> None:
        self._ticketing = ticketing
        self.key_prefix = key_prefix

    def status(self, ctx: TurnContext, key: str) -> Reply:
        """The ticket's state in plain words, its assignee and last update."""
        key = key.strip().upper()
        if not KEY_RE.fullmatch(key):  # never put an unchecked value into a Jira REST path
            return not_found(key)
        ticket = find_ticket(ctx.session, key)
        if ticket is not None and not _participates(ctx, ticket):
            return not_yours(key)
        backend = self._ticketing()
        remote = self._live(ctx, backend, key)
        if backend.live_lookup and ticket is None:
            if remote is None or not _reported_by(ctx, remote):
                return not_found(key)
        if ticket is None and remote is None:
            return not_found(key)
        # display only: our copy changes through the webhook (apply_status), so the "resolved"
        # message with rating buttons is never skipped because a status check saw it first
        view = _View.of(ticket, remote)
        stale = (" (Jira isn't answering; this is the last state I know)"
                 if backend.live_lookup and remote is None else "")
        state = status_words(view.status, view.category, view.assignee, view.resolution)
        text = (f"{key} “{view.summary}” is {state}. "
                f"Assignee: {view.assignee or 'nobody yet'}. Last update: {ago(view.updated)}.{stale}")
        return _info(text, ticket_key=key, ticket_url=view.url)

    @staticmethod
    def _live(ctx: TurnContext, backend: TicketingBackend, key: str) -> RemoteTicket | None:
        """The tracker's current view of ``key`` (None: not live, unknown, or not answering)."""
        if not backend.live_lookup:
            return None
        try:
            return backend.get(key, session=ctx.session)
        except TicketingError as exc:
            log.warning("live status of %s unavailable: %s", key, exc.detail)
            return None

    def my_tickets(self, ctx: TurnContext, *, asked_status: bool = False) -> Reply:
        """The employee's tickets (ours, plus the tracker's when it is live), newest first.

        ``asked_status`` ("any update on my ticket?" without a key): with exactly one ticket
        that is not resolved, the answer is that ticket's status, not a question back.
        """
        rows = tickets_of(ctx.session, user_key=ctx.message.user_key, email=ctx.message.email)
        if asked_status:
            unresolved = [t for t in rows if t.status_category != "done"]
            if len(unresolved) == 1:
                only = unresolved[0]
                if only.key:
                    return self.status(ctx, only.key)
                return _info(f"Your ticket “{only.summary}” is {words_of(only)}.")
        lines = [_line(t.key or "(queued)", t.summary, status_words(t.status, t.status_category, t.assignee,
                                                                    t.resolution), t.updated_at) for t in rows]
        known = {t.key for t in rows}
        lines += [_line(r.key, r.summary, status_words(r.status, r.status_category, r.assignee, r.resolution),
                        r.updated) for r in self._remote_tickets(ctx) if r.key not in known]
        if not lines:
            return Reply(text="You have no tickets with IT. Want to open one?", outcome=Outcome.INFO,
                         private=True, buttons=[Button("Open a ticket", "ticket.open", {"summary": ""})])
        lead = "Which ticket? Here are yours:" if asked_status else "Your tickets:"
        return _info(lead + "\n" + "\n".join(lines[:10]))

    def _remote_tickets(self, ctx: TurnContext) -> list[RemoteTicket]:
        backend = self._ticketing()
        if not backend.live_lookup or not ctx.message.email:
            return []
        try:
            return backend.tickets_of(ctx.message.email, session=ctx.session)
        except TicketingError as exc:
            log.warning("Jira tickets of the requester unavailable: %s", exc.detail)
            return []

    def key_from(self, ctx: TurnContext) -> str | None:
        """The ticket key the employee means: an NLU entity, a key in the text, or "ticket 12"."""
        if ctx.parse is not None:
            for entity in ctx.parse.entities:
                if entity.entity in KEY_ENTITIES or KEY_RE.fullmatch(str(entity.value)):
                    match = KEY_RE.search(str(entity.value))
                    if match:
                        return f"{match.group(1)}-{match.group(2)}".upper()
                    if str(entity.value).isdigit():
                        return f"{self.key_prefix}-{entity.value}"
        match = KEY_RE.search(ctx.message.text)
        if match:
            return f"{match.group(1)}-{match.group(2)}".upper()
        number = re.search(r"(?:ticket|#)\s*#?(\d{1,7})\b", ctx.message.text, re.I)
        if number:
            return f"{self.key_prefix}-{number.group(1)}"
        return None


def words_of(t: Ticket) -> str:
    """A ticket's state in plain words."""
    return status_words(t.status, t.status_category, t.assignee, t.resolution)


def _participates(ctx: TurnContext, ticket: Ticket) -> bool:
    return is_participant(ticket, user_key=ctx.message.user_key, email=ctx.message.email)


def _reported_by(ctx: TurnContext, remote: RemoteTicket) -> bool:
    """Exact e-mail match only: a fuzzy match may be someone else."""
    email = (ctx.message.email or "").lower()
    return bool(email) and (remote.reporter_email or "").lower() == email


def _line(key: str, summary: str, words: str, updated: dt.datetime | None) -> str:
    return f"• {key} — “{summary}” — {words}, updated {ago(updated)}"
