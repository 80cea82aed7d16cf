"""Apply a ticket change (IT comment, assignment, status) to our record and tell the requester.

Used by the local queue's CLI and by the Jira webhook, so both reach the
employee the same way (a notice through the ``sink``, in the same transaction).
Every function is idempotent for a repeated change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.base import utcnow
from integrations.ticketing import notices
from integrations.ticketing.models import Ticket, TicketComment, TicketEvent
from integrations.ticketing.notices import TicketNoticeSink
from integrations.ticketing.texts import WAITING_ON_EMPLOYEE


def record_event(session: Session, ticket: Ticket, kind: str, *, actor: str | None = None,
                 **data: Any) -> None:
    """Add one entry to the ticket's audit trail."""
    session.add(TicketEvent(ticket_id=ticket.id, kind=kind, actor=actor, data=data))


def apply_comment(session: Session, ticket: Ticket, *, sink: TicketNoticeSink, author: str, body: str,
                  external_id: str | None = None) -> bool:
    """Store an IT comment and relay it to the requester; False when already applied."""
    if external_id is not None:
        seen = session.scalars(select(TicketComment).where(
            TicketComment.ticket_id == ticket.id, TicketComment.external_id == external_id)).first()
        if seen is not None:
            return False
    comment = TicketComment(ticket_id=ticket.id, author=author, body=body, external_id=external_id)
    try:
        with session.begin_nested():  # unique (ticket_id, external_id): a concurrent twin loses here
            session.add(comment)
            session.flush()
    except IntegrityError:
        return False
    ticket.updated_at = utcnow()
    record_event(session, ticket, "commented", actor=author, comment_id=comment.id)
    sink.publish(session, notices.commented(ticket, author=author, body=body,
                                            comment_id=external_id or f"local-{comment.id}"))
    return True


def apply_assignee(session: Session, ticket: Ticket, assignee: str | None, *, actor: str | None) -> bool:
    """Record a new assignee (the requester is not notified); False when unchanged."""
    if ticket.assignee == assignee:
        return False
    ticket.assignee = assignee
    ticket.updated_at = utcnow()
    record_event(session, ticket, "assigned", actor=actor, assignee=assignee)
    return True


def _count(session: Session, ticket: Ticket, kind: str) -> int:
    session.flush()
    return session.scalar(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == kind)) or 1


def apply_status(session: Session, ticket: Ticket, *, sink: TicketNoticeSink, status: str, category: str,
                 resolution: str | None = None, actor: str | None = None, notify: bool = True) -> bool:
    """Update the status and tell the requester what it means for them (unless ``notify`` is off).

    Resolved: with rating buttons. Reopened (done → open): that IT is on it again. Waiting on
    the employee: that IT needs their reply.
    """
    was_done = ticket.status_category == "done"
    changed = ticket.status != status or ticket.status_category != category
    if not changed and (resolution is None or resolution == ticket.resolution):
        return False
    ticket.status = status
    ticket.status_category = category
    ticket.updated_at = utcnow()
    if category == "done":
        ticket.resolution = resolution or ticket.resolution or "Done"
        if not was_done:
            ticket.resolved_at = utcnow()
            record_event(session, ticket, "resolved", actor=actor, resolution=ticket.resolution)
            session.flush()
            occurrence = session.scalar(select(func.count()).select_from(TicketEvent).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "resolved")) or 1
            sink.publish(session, notices.resolved(ticket, occurrence=occurrence))
            return True
    else:
        if was_done:
            record_event(session, ticket, "reopened", actor=actor)
            if notify:
                sink.publish(session, notices.reopened(ticket, occurrence=_count(session, ticket, "reopened")))
        ticket.resolution = None
        ticket.resolved_at = None
        if notify and status.strip().lower() == WAITING_ON_EMPLOYEE.lower():
            record_event(session, ticket, "waiting_on_employee", actor=actor)
            sink.publish(session, notices.waiting_on_employee(
                ticket, occurrence=_count(session, ticket, "waiting_on_employee")))
    record_event(session, ticket, "status", actor=actor, status=status)
    return True
