"""Working the local queue and the outbox as IT staff do (`helpdesk tickets …`).

The rules live here; the CLI only parses arguments and prints. Every function
runs in the caller's session, and comments and resolutions reach the employee
exactly as Jira's do (a notice through ``sink``; on resolution with rating buttons).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from bot.errors import InvalidInputError, NotPermittedError
from bot.storage.base import utcnow
from integrations.ticketing import notices
from integrations.ticketing.base import URGENCIES, TrackerAdmin
from integrations.ticketing.drafting import category_label
from integrations.ticketing.models import Ticket, TicketComment, TicketEvent, TicketOutbox
from integrations.ticketing.notices import TicketNoticeSink
from integrations.ticketing.service import find_ticket, reroute
from integrations.ticketing.settings import TicketingSettings
from integrations.ticketing.texts import WAITING_ON_EMPLOYEE
from integrations.ticketing.updates import apply_assignee, apply_comment, apply_status, record_event

STATUS_FILTERS = ("open", "queued", "done", "all")
STATUS_CHOICES = {"open": "Open", "in-progress": "In Progress", "waiting": WAITING_ON_EMPLOYEE}


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


SORTS = ("newest", "oldest", "updated", "urgency")


def search(session: Session, *, status: str = "open", urgency: str | None = None, category: str | None = None,
           assignee: str | None = None, min_age_days: int | None = None, max_age_days: int | None = None,
           sort: str = "newest", offset: int = 0, limit: int = 25) -> tuple[list[dict[str, Any]], int]:
    """One page of tickets by status category, urgency, category, assignee ("-": unassigned) and age
    in days, sorted (``SORTS``); with how many match in all."""
    if status not in STATUS_FILTERS:
        raise InvalidInputError("The status filter must be open, queued, done or all.")
    if urgency and urgency not in URGENCIES:
        raise InvalidInputError(f"The urgency filter must be one of {', '.join(URGENCIES)}.")
    if sort not in SORTS:
        raise InvalidInputError(f"Sort by one of {', '.join(SORTS)}.")
    if any(days is not None and not 0 <= days <= 36500 for days in (min_age_days, max_age_days)):
        raise InvalidInputError("An age is a number of days between 0 and 36500.")
    where: list[ColumnElement[bool]] = [] if status == "all" else [Ticket.status_category == status]
    if urgency:
        where.append(Ticket.urgency == urgency)
    if category:
        where.append(Ticket.category == category)
    if assignee:
        where.append(Ticket.assignee.is_(None) if assignee == "-" else Ticket.assignee == assignee)
    now = utcnow()
    if min_age_days is not None:
        where.append(Ticket.created_at <= now - dt.timedelta(days=min_age_days))
    if max_age_days is not None:
        where.append(Ticket.created_at >= now - dt.timedelta(days=max_age_days))
    rank = case({u: i for i, u in enumerate(URGENCIES)}, value=Ticket.urgency, else_=1)
    order = {"newest": (Ticket.created_at.desc(),), "oldest": (Ticket.created_at.asc(),),
             "updated": (Ticket.updated_at.desc(),), "urgency": (rank.desc(), Ticket.created_at.asc())}[sort]
    total = session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
    stmt = select(Ticket).where(*where).order_by(*order, Ticket.id.desc()).offset(max(offset, 0)).limit(limit)
    return [ticket_dict(t) for t in session.scalars(stmt).all()], int(total)


def show(session: Session, key: str) -> dict[str, Any]:
    """One ticket with its description, comments and history."""
    t = load(session, key)
    data = ticket_dict(t)
    data["description"] = t.description
    data["components"], data["labels"] = t.components, t.labels
    data["links"] = list((t.extra or {}).get("links", []))
    data["comments"] = [{"author": c.author, "body": c.body, "from_requester": c.from_requester,
                         "internal": c.internal, "created_at": c.created_at} for c in session.scalars(
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
    """Reopen a resolved local-queue ticket; the employee is told IT is on it again."""
    t = load(session, key, local_only=True)
    if t.status_category != "done":
        raise InvalidInputError(f"{t.key} is not resolved ({t.status}): only a resolved ticket can be reopened.")
    apply_status(session, t, sink=sink, status="Reopened", category="open", actor=actor)
    return ticket_dict(t)


def note(session: Session, key: str, text: str, *, author: str, tracker: TrackerAdmin | None) -> dict[str, Any]:
    """An internal note: for IT only, never relayed to the employee (Jira: an internal/restricted comment)."""
    if not text.strip():
        raise InvalidInputError("The note is empty.")
    t = load(session, key)
    if t.backend == "jira":
        _need_tracker(t, tracker).add_internal_note(t.key or "", text.strip(), author=author)
    session.add(TicketComment(ticket_id=t.id, author=author, body=text.strip(), internal=True))
    session.flush()
    record_event(session, t, "note", actor=author)
    return ticket_dict(t)


def set_status(session: Session, key: str, status: str, *, actor: str, sink: TicketNoticeSink,
               tracker: TrackerAdmin | None) -> dict[str, Any]:
    """Move an open ticket to open / in-progress / waiting (on the employee, who is told so)."""
    if status not in STATUS_CHOICES:
        raise InvalidInputError(f"The status must be one of {', '.join(STATUS_CHOICES)} "
                                "(use `tickets resolve` and `tickets reopen` for the others).")
    t = load(session, key)
    if t.status_category != "open":
        raise InvalidInputError(f"{t.key} is {t.status}: reopen it first." if t.status_category == "done"
                                else f"{t.key} is not filed yet; wait until it has its key.")
    name = STATUS_CHOICES[status]
    if t.backend == "jira":  # Jira's workflow decides; the webhook brings the change back to the employee
        _need_tracker(t, tracker).transition(t.key or "", name)
        record_event(session, t, "status_requested", actor=actor, status=name)
        return ticket_dict(t)
    apply_status(session, t, sink=sink, status=name, category="open", actor=actor)
    return ticket_dict(t)


def set_priority(session: Session, settings: TicketingSettings, key: str, urgency: str, *, actor: str,
                 tracker: TrackerAdmin | None) -> dict[str, Any]:
    """Change a ticket's urgency (and the tracker priority it maps to)."""
    if urgency not in URGENCIES:
        raise InvalidInputError(f"The priority must be one of {', '.join(URGENCIES)}.")
    t = load(session, key)
    priority = settings.jira.priority_map.get(urgency, t.priority)
    if t.backend == "jira" and t.key and priority:
        _need_tracker(t, tracker).set_fields(t.key, {"priority": {"name": priority}})
    old = t.urgency
    t.urgency, t.priority, t.updated_at = urgency, priority, utcnow()
    record_event(session, t, "priority", actor=actor, old=old, new=urgency)
    return ticket_dict(t)


def set_category(session: Session, settings: TicketingSettings, key: str, category: str, *, actor: str,
                 tracker: TrackerAdmin | None) -> dict[str, Any]:
    """Change a ticket's category (its ``category-…`` label follows)."""
    category = category.strip()
    if not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", category):
        raise InvalidInputError("A category is one word of letters, digits, - and _ (e.g. vpn_issue).")
    t = load(session, key)
    old = t.category
    labels = [label for label in (t.labels or []) if not str(label).startswith("category-")]
    labels.insert(0, category_label(category))
    if t.backend == "jira" and t.key:
        _need_tracker(t, tracker).set_fields(t.key, {"labels": labels})
    t.category, t.labels, t.updated_at = category, labels, utcnow()
    record_event(session, t, "category", actor=actor, old=old, new=category)
    return ticket_dict(t)


def link(session: Session, key: str, other: str, *, actor: str, tracker: TrackerAdmin | None,
         duplicate: bool = False) -> dict[str, Any]:
    """Link two tickets (both show the link; Jira: an issue link)."""
    a, b = load(session, key), load(session, other)
    if a.id == b.id:
        raise InvalidInputError("A ticket cannot be linked to itself.")
    if a.backend == "jira" and b.backend == "jira" and a.key and b.key:
        _need_tracker(a, tracker).link(a.key, b.key, duplicate=duplicate)
    kind = "duplicate_of" if duplicate else "relates_to"
    for this, that, relation in ((a, b, kind), (b, a, "duplicated_by" if duplicate else "relates_to")):
        links = [entry for entry in (this.extra or {}).get("links", []) if entry.get("key") != that.key]
        this.extra = {**(this.extra or {}), "links": [*links, {"key": that.key, "relation": relation}]}
        record_event(session, this, "linked", actor=actor, other=that.key, relation=relation)
    return ticket_dict(a)


def merge(session: Session, duplicate: str, into: str, *, actor: str, sink: TicketNoticeSink,
          tracker: TrackerAdmin | None) -> dict[str, Any]:
    """Merge a duplicate into the ticket that stays: linked, its requester and words carried over, resolved.

    The duplicate's requester is told it was resolved as a duplicate of the other key, and
    becomes a participant of it (they can ask its status).
    """
    dup, target = load(session, duplicate), load(session, into)
    if dup.status_category == "done":
        raise InvalidInputError(f"{dup.key} is already resolved.")
    link(session, duplicate, into, actor=actor, tracker=tracker, duplicate=True)
    people = [str(p) for p in (target.participants or [])]
    for person in (dup.requester_user_key, dup.requester_email):
        if person and person not in people and person not in (target.requester_user_key, target.requester_email):
            people.append(person)
    target.participants = people
    words = f"Merged from {dup.key} ({dup.requester_email or dup.requester_user_key}): {dup.employee_text}"
    note(session, into, words[:3000], author=actor, tracker=tracker)
    if dup.backend == "jira":  # the Jira issue is closed in Jira; our record says where it went
        dup.status, dup.status_category = "Resolved", "done"
        dup.resolution, dup.resolved_at = f"Duplicate of {target.key}", utcnow()
        record_event(session, dup, "resolved", actor=actor, resolution=dup.resolution)
        session.flush()
        sink.publish(session, notices.resolved(dup, occurrence=1))
    else:
        apply_status(session, dup, sink=sink, status="Resolved", category="done",
                     resolution=f"Duplicate of {target.key}", actor=actor)
    return ticket_dict(target)


def _need_tracker(ticket: Ticket, tracker: TrackerAdmin | None) -> TrackerAdmin:
    if tracker is None:
        raise NotPermittedError(f"{ticket.key} is a Jira ticket, but Jira is not configured here.")
    return tracker


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
             "next_attempt_at": o.next_attempt_at, "created_at": o.created_at,
             "last_error": o.last_error, "ticket": t.key, "idem_key": t.idem_key, "summary": t.summary,
             "requester": t.requester_email or t.requester_user_key}
            for o, t in session.execute(stmt).all()]
