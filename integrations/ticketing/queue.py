"""Working the local queue and the outbox as IT staff do (`helpdesk tickets …`).

The rules live here; the CLI only parses arguments and prints. Every function
runs in the caller's session, and comments and resolutions reach the employee
exactly as Jira's do (a notice through ``sink``; on resolution with rating buttons).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from bot.errors import InvalidInputError, NotPermittedError
from bot.storage.base import utcnow
from integrations.ticketing.models import Ticket, TicketComment, TicketEvent, TicketOutbox
from integrations.ticketing.notices import TicketNoticeSink
from integrations.ticketing.service import find_ticket, reroute
from integrations.ticketing.settings import TicketingSettings
from integrations.ticketing.updates import apply_assignee, apply_comment, apply_status

STATUS_FILTERS = ("open", "queued", "done", "all")


def ticket_dict(t: Ticket) -> dict[str, Any]:
    """A ticket's fields as plain values (what `tickets list/show --json` print)."""
    return {"key": t.key, "status": t.status, "status_category": t.status_category,
            "summary": t.summary, "requester": t.requester_email or t.requester_user_key,
            "requester_user_key": t.requester_user_key, "assignee": t.assignee,
            "urgency": t.urgency, "priority": t.priority, "category": t.category,
            "backend": t.backend, "url": t.url, "resolution": t.resolution, "rating": t.rating,
            "created_at": t.created_at, "updated_at": t.updated_at}


def load(session: Session, key: str, *, local_only: bool = False) -> Ticket:
    """The ticket with ``key``; ``local_only`` refuses Jira tickets (they are worked in Jira)."""
    ticket = find_ticket(session, key)
    if ticket is None:
        raise InvalidInputError(f"Ticket {key.upper()} does not exist (see `helpdesk tickets list`).")
    if local_only and ticket.backend != "local":
        raise NotPermittedError(f"{ticket.key} is a Jira ticket: work it in Jira ({ticket.url}).")
    return ticket


def list_tickets(session: Session, *, status: str = "open", requester: str | None = None,
                 limit: int = 50) -> list[dict[str, Any]]:
    """Tickets newest first, by status category (``open``, ``queued``, ``done`` or ``all``)."""
    if status not in STATUS_FILTERS:
        raise InvalidInputError("--status must be open, queued, done or all.")
    stmt = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
    if status != "all":
        stmt = stmt.where(Ticket.status_category == status)
    if requester:
        stmt = stmt.where(Ticket.requester_email == requester)
    return [ticket_dict(t) for t in session.scalars(stmt).all()]


def show(session: Session, key: str) -> dict[str, Any]:
    """One ticket with its description, comments and history."""
    t = load(session, key)
    data = ticket_dict(t)
    data["description"] = t.description
    data["components"], data["labels"] = t.components, t.labels
    data["comments"] = [{"author": c.author, "body": c.body, "from_requester": c.from_requester,
                         "created_at": c.created_at} for c in session.scalars(
        select(TicketComment).where(TicketComment.ticket_id == t.id).order_by(TicketComment.id))]
    data["events"] = [{"kind": e.kind, "actor": e.actor, "data": e.data, "created_at": e.created_at}
                      for e in session.scalars(select(TicketEvent).where(
                          TicketEvent.ticket_id == t.id).order_by(TicketEvent.id))]
    return data


def comment(session: Session, key: str, text: str, *, author: str, sink: TicketNoticeSink) -> dict[str, Any]:
    """Reply on a local-queue ticket; the employee gets it in chat."""
    if not text.strip():
        raise InvalidInputError("The comment is empty.")
    t = load(session, key, local_only=True)
    apply_comment(session, t, sink=sink, author=author, body=text.strip())
    return ticket_dict(t)


def assign(session: Session, key: str, assignee: str | None, *, actor: str,
           sink: TicketNoticeSink) -> dict[str, Any]:
    """Assign (None: unassign) a local-queue ticket; an open one moves to "In Progress"."""
    t = load(session, key, local_only=True)
    apply_assignee(session, t, assignee, actor=actor)
    if t.status_category == "open" and t.status == "Open" and t.assignee:
        apply_status(session, t, sink=sink, status="In Progress", category="open", actor=actor)
    return ticket_dict(t)


def resolve(session: Session, key: str, *, resolution: str, closing_comment: str | None, actor: str,
            sink: TicketNoticeSink) -> dict[str, Any]:
    """Resolve a local-queue ticket; the employee is told and asked for a rating."""
    t = load(session, key, local_only=True)
    if t.status_category == "done":
        raise InvalidInputError(f"{t.key} is already resolved (reopen it first).")
    if closing_comment:
        apply_comment(session, t, sink=sink, author=actor, body=closing_comment)
    apply_status(session, t, sink=sink, status="Resolved", category="done", resolution=resolution, actor=actor)
    return ticket_dict(t)


def reopen(session: Session, key: str, *, actor: str, sink: TicketNoticeSink) -> dict[str, Any]:
    """Reopen a resolved local-queue ticket."""
    t = load(session, key, local_only=True)
    apply_status(session, t, sink=sink, status="Open", category="open", actor=actor)
    return ticket_dict(t)


@dataclass
class Requeued:
    """What `outbox --retry` did with each row asked for."""

    requeued: list[int] = field(default_factory=list)
    already_queued: list[int] = field(default_factory=list)
    already_done: list[int] = field(default_factory=list)


def requeue(session: Session, settings: TicketingSettings, ids: Sequence[int], *,
            all_failed: bool = False) -> Requeued:
    """Requeue failed outbox rows now, with the current routing; pending rows are left alone."""
    chosen: list[ColumnElement[bool]] = [TicketOutbox.id.in_(ids)]
    if all_failed:
        chosen.append(TicketOutbox.status == "failed")
    rows = session.scalars(select(TicketOutbox).where(or_(*chosen))).all()
    if ids and len({r.id for r in rows} & set(ids)) < len(set(ids)):
        raise InvalidInputError("Unknown outbox row in --retry (see `helpdesk tickets outbox`).")
    done = Requeued()
    for row in rows:
        # only failed rows: a pending row may be in flight right now (claimed by a worker that
        # is talking to Jira); resetting it would send the same ticket twice
        if row.status == "failed":
            row.status, row.next_attempt_at = "pending", utcnow()
            ticket = session.get(Ticket, row.ticket_id)
            if ticket is not None:
                reroute(settings, ticket)
            done.requeued.append(row.id)
        elif row.status == "pending":
            done.already_queued.append(row.id)
        else:
            done.already_done.append(row.id)
    return done


def outbox_rows(session: Session, *, include_done: bool = False) -> list[dict[str, Any]]:
    """The outbox (undelivered rows unless ``include_done``), oldest first, with each row's ticket."""
    stmt = (select(TicketOutbox, Ticket).join(Ticket, Ticket.id == TicketOutbox.ticket_id)
            .order_by(TicketOutbox.id))
    if not include_done:
        stmt = stmt.where(TicketOutbox.status != "done")
    return [{"id": o.id, "kind": o.kind, "status": o.status, "attempts": o.attempts,
             "next_attempt_at": o.next_attempt_at,
             "last_error": o.last_error, "ticket": t.key, "idem_key": t.idem_key, "summary": t.summary,
             "requester": t.requester_email or t.requester_user_key}
            for o, t in session.execute(stmt).all()]
