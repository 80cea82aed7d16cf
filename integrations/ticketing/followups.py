"""Follow-ups with the employee: a reminder while IT waits on them, their answer to "Did this fix it?".

- A ticket waiting on the employee (status :data:`~.texts.WAITING_ON_EMPLOYEE`) whom IT has heard
  nothing from for ``ticketing.reminder_working_days`` working days (Monday to Friday, UTC) gets
  one :class:`TicketReminder` per waiting period (:func:`remind_due`, a background job).
- On a resolved ticket the requester answers *Yes* (:func:`confirm_fixed`: recorded, and a positive
  rating where none was given) or *Reopen* with their words (:func:`reopen_by_requester`).

Each of these is claimed with a :class:`~.models.TicketFollowUp` row whose unique key makes it
happen once, across retries, restarts and replicas. Only the ticket's requester may answer.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.errors import InvalidInputError
from bot.storage.base import utcnow
from bot.storage.session import Database
from integrations.ticketing.models import Ticket, TicketComment, TicketEvent, TicketFollowUp, TicketOutbox
from integrations.ticketing.notices import TicketNoticeSink
from integrations.ticketing.settings import TicketingSettings
from integrations.ticketing.texts import WAITING_ON_EMPLOYEE
from integrations.ticketing.updates import apply_status, record_event

log = logging.getLogger(__name__)
FIXED_RATING = 5  # "Yes, it's fixed" counts as the best rating, unless the employee rated already
WORDS_MAX = 3000
REOPEN_WITHOUT_WORDS = "The problem is not solved; please reopen this ticket."  # a button with no words


@dataclass(frozen=True)
class TicketReminder:
    """IT is still waiting for the employee's reply (``occurrence``: the waiting period)."""

    key: str
    url: str | None
    summary: str
    requester_user_key: str
    requester_email: str | None
    occurrence: int
    working_days: int


class ReminderSink(Protocol):
    """Receives reminders inside the transaction that claimed them (the bot's notice router)."""

    def publish(self, session: Session, notice: TicketReminder) -> None:
        """Queue the reminder for the employee."""
        ...


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """``start`` moved forward by ``days`` working days (Monday–Friday), keeping the time of day."""
    moment, left = start, days
    while left > 0:
        moment += dt.timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment


def _claim(session: Session, ticket: Ticket, kind: str, occurrence: int, actor: str | None) -> bool:
    """Insert the follow-up's unique row; False when it was already done (here or by another worker)."""
    try:
        with session.begin_nested():
            session.add(TicketFollowUp(ticket_id=ticket.id, kind=kind, occurrence=occurrence, actor=actor))
            session.flush()
    except IntegrityError:
        return False
    return True


def _count(session: Session, ticket: Ticket, kind: str) -> int:
    return session.scalar(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind)) or 0


# --- reminders ---------------------------------------------------------------------
def remind_due(db: Database, settings: TicketingSettings, sink: ReminderSink, *,
               now: dt.datetime | None = None, limit: int = 200) -> int:
    """Queue one reminder for each ticket whose waiting period is due; returns how many were queued."""
    now = now or utcnow()
    waiting = WAITING_ON_EMPLOYEE.lower()
    with db.session() as session:
        candidates = list(session.scalars(
            select(Ticket.id).where(Ticket.status_category == "open", func.lower(Ticket.status) == waiting)
            .order_by(Ticket.id).limit(limit)))
    sent = 0
    for ticket_id in candidates:
        with db.session() as session:  # one transaction per ticket: one bad row never blocks the rest
            ticket = session.get(Ticket, ticket_id)
            if ticket is not None and _remind(session, ticket, settings.reminder_working_days, sink, now):
                sent += 1
    return sent


def _remind(session: Session, ticket: Ticket, days: int, sink: ReminderSink, now: dt.datetime) -> bool:
    started = session.scalar(select(func.max(TicketEvent.created_at)).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "waiting_on_employee"))
    if started is None or add_working_days(started, days) > now:
        return False
    occurrence = _count(session, ticket, "waiting_on_employee")
    done = session.scalar(select(exists().where(
        TicketFollowUp.ticket_id == ticket.id, TicketFollowUp.kind == "reminder",
        TicketFollowUp.occurrence == occurrence)))
    answered = session.scalar(select(exists().where(
        TicketComment.ticket_id == ticket.id, TicketComment.from_requester.is_(True),
        TicketComment.created_at >= started)))
    if done or answered or not _claim(session, ticket, "reminder", occurrence, None):
        return False
    record_event(session, ticket, "reminded", occurrence=occurrence)
    sink.publish(session, TicketReminder(
        key=ticket.key or "", url=ticket.url, summary=ticket.summary, requester_user_key=ticket.requester_user_key,
        requester_email=ticket.requester_email, occurrence=occurrence, working_days=days))
    return True


# --- "Did this fix it?" --------------------------------------------------------------
def requester_ticket(session: Session, key: str, user_key: str) -> Ticket:
    """The ticket ``key`` when ``user_key`` asked for it ("not yours" reads as "does not exist")."""
    ticket = session.scalars(select(Ticket).where(Ticket.key == key.strip().upper())).first() if key else None
    if ticket is None or ticket.requester_user_key != user_key:
        raise InvalidInputError(f"I can't find a ticket {key.strip().upper()[:64]} of yours.")
    return ticket


def _resolved(session: Session, ticket: Ticket) -> int:
    """The resolution being answered (its count), or a clear error when the ticket is not resolved."""
    if ticket.status_category != "done":
        raise InvalidInputError(f"{ticket.key} is open again: IT is already on it.")
    return max(_count(session, ticket, "resolved"), 1)


def resolved_ticket_of(session: Session, key: str, user_key: str) -> Ticket:
    """The requester's ticket ``key`` when it is resolved (a clear error otherwise): what they may answer."""
    ticket = requester_ticket(session, key, user_key)
    _resolved(session, ticket)
    return ticket


def confirm_fixed(session: Session, key: str, *, user_key: str) -> tuple[Ticket, bool]:
    """The requester says the resolution fixed it: recorded once, and a positive rating if none was given.

    Returns the ticket and whether this answer was new (False: already answered).
    """
    ticket = requester_ticket(session, key, user_key)
    occurrence = _resolved(session, ticket)
    if not _claim(session, ticket, "fixed", occurrence, user_key):
        return ticket, False
    record_event(session, ticket, "confirmed_fixed", actor=user_key, occurrence=occurrence)
    if ticket.rating is None:  # the same place ratings go (an explicit rating is never overwritten)
        ticket.rating = FIXED_RATING
        record_event(session, ticket, "rated", actor=user_key, rating=FIXED_RATING, source="fixed")
    return ticket, True


@dataclass(frozen=True)
class Reopened:
    """What :func:`reopen_by_requester` did; ``queued``: Jira, moved by the ticket outbox shortly."""

    key: str
    summary: str
    url: str | None
    queued: bool = False


def reopen_by_requester(session: Session, key: str, *, user_key: str, author: str, words: str,
                        settings: TicketingSettings, sink: TicketNoticeSink) -> Reopened:
    """The requester reopens their resolved ticket, with their words (already redacted) as a comment.

    The one rule for every surface (Slack's *Reopen* modal, the *Reopen* button after a poor
    rating): only the requester, only a resolved ticket, once per resolution. Local queue: the
    ticket is reopened now. Jira: one outbox row adds the comment and then moves the issue by
    ``ticketing.jira.reopen_transition`` (retried like any comment); the webhook brings the new
    status back, as for any change made in Jira.
    """
    words = words.strip()
    if not words:
        raise InvalidInputError("Tell IT what is still wrong: the reason can't be empty.")
    ticket = requester_ticket(session, key, user_key)
    occurrence = _resolved(session, ticket)
    if not _claim(session, ticket, "reopened", occurrence, user_key):
        raise InvalidInputError(f"{ticket.key} was already reopened; IT is on it.")
    body = words[:WORDS_MAX]
    session.add(TicketComment(ticket_id=ticket.id, author=author, body=body, from_requester=True))
    record_event(session, ticket, "requester_comment", actor=user_key)
    if ticket.backend == "jira":
        session.add(TicketOutbox(ticket_id=ticket.id, kind="comment", payload={
            "body": f"The employee asked to reopen this ticket: {body}", "author": author,
            "ref": uuid.uuid4().hex[:12], "transition": settings.jira.reopen_transition}))
        record_event(session, ticket, "reopen_requested", actor=user_key)
        ticket.updated_at = utcnow()
        return Reopened(ticket.key or "", ticket.summary, ticket.url, queued=True)
    apply_status(session, ticket, sink=sink, status="Reopened", category="open", actor=user_key, notify=False)
    return Reopened(ticket.key or "", ticket.summary, ticket.url)
