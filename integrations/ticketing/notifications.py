"""What the employee (and the IT triage channel) hears about a ticket, queued via bot.notify."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.messages import Button, Outcome, Reply
from bot.notify import enqueue
from integrations.ticketing.models import Ticket

log = logging.getLogger(__name__)

RATINGS = ((5, "😀 Great"), (3, "😐 OK"), (1, "🙁 Poor"))


def _quote(text: str, limit: int = 600) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _link(ticket: Ticket) -> list[Button]:
    return [Button(label=f"Open {ticket.key}", action_id="ticket.link", url=ticket.url)] if ticket.url else []


def notify_created(session: Session, ticket: Ticket) -> None:
    """Tell the requester the key of a ticket that was queued (Jira) and now exists."""
    enqueue(session, user_key=ticket.requester_user_key, email=ticket.requester_email,
            dedupe_key=f"ticket:{ticket.idem_key}:created",
            reply=Reply(text=f"Your ticket is now {ticket.key}: “{_quote(ticket.summary, 200)}”. "
                             "IT staff have it; I'll tell you when they reply.",
                        outcome=Outcome.ESCALATED, ticket_key=ticket.key, ticket_url=ticket.url,
                        private=True, buttons=_link(ticket)))


def notify_comment(session: Session, ticket: Ticket, *, author: str, body: str, comment_id: str) -> None:
    """Relay an IT staff comment to the requester (once per comment id)."""
    enqueue(session, user_key=ticket.requester_user_key, email=ticket.requester_email,
            dedupe_key=f"ticket:{ticket.key}:comment:{comment_id}",
            reply=Reply(text=f"{author} replied on {ticket.key} (“{_quote(ticket.summary, 120)}”):\n"
                             f"> {_quote(body)}",
                        outcome=Outcome.INFO, ticket_key=ticket.key, ticket_url=ticket.url,
                        private=True, buttons=_link(ticket)))


def notify_resolved(session: Session, ticket: Ticket, *, occurrence: int) -> None:
    """Tell the requester their ticket is resolved, with one-click rating buttons."""
    resolution = f" ({ticket.resolution})" if ticket.resolution else ""
    buttons = [Button(label=label, action_id="ticket.rate", value={"key": ticket.key, "rating": score})
               for score, label in RATINGS]
    enqueue(session, user_key=ticket.requester_user_key, email=ticket.requester_email,
            dedupe_key=f"ticket:{ticket.key}:resolved:{occurrence}",
            reply=Reply(text=f"Your ticket {ticket.key} (“{_quote(ticket.summary, 120)}”) is resolved"
                             f"{resolution}. How did IT do?",
                        outcome=Outcome.INFO, ticket_key=ticket.key, ticket_url=ticket.url,
                        private=True, buttons=buttons + _link(ticket)))


def notify_triage(session: Session, ticket: Ticket, settings: Settings) -> None:
    """Post a new ticket in the IT triage Slack channel, when one is configured."""
    channel = settings.slack.triage_channel
    if not channel or not settings.ticketing.notify_triage or not ticket.key:
        return
    channel = channel.lstrip("#")
    who = ticket.requester_name or ticket.requester_email or ticket.requester_user_key
    enqueue(session, user_key=f"slack:{channel}", dedupe_key=f"ticket:{ticket.idem_key}:triage",
            reply=Reply(text=f"New ticket {ticket.key} from {who}: “{_quote(ticket.summary, 200)}” "
                             f"(category {ticket.category or 'general'}, urgency {ticket.urgency})",
                        outcome=Outcome.ESCALATED, ticket_key=ticket.key, ticket_url=ticket.url,
                        buttons=_link(ticket)))


def notify_failed(session: Session, ticket: Ticket, settings: Settings) -> None:
    """The tracker refused the ticket for good: tell the requester, and IT's triage channel."""
    enqueue(session, user_key=ticket.requester_user_key, email=ticket.requester_email,
            dedupe_key=f"ticket:{ticket.idem_key}:failed",
            reply=Reply(text=f"I couldn't file your ticket “{_quote(ticket.summary, 120)}” in Jira "
                             "automatically. It is saved, and IT staff have been alerted to file it.",
                        outcome=Outcome.ERROR, private=True))
    channel = settings.slack.triage_channel
    if channel:
        who = ticket.requester_name or ticket.requester_email or ticket.requester_user_key
        enqueue(session, user_key=f"slack:{channel.lstrip('#')}",
                dedupe_key=f"ticket:{ticket.idem_key}:failed-triage",
                reply=Reply(text=f"Jira refused a ticket from {who}: “{_quote(ticket.summary, 200)}”. "
                                 "See `helpdesk tickets outbox`, fix the cause, then retry it.",
                            outcome=Outcome.ERROR))
