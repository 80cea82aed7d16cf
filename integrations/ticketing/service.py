"""Opening tickets and looking them up: shared by the chat flow, the CLI and the worker."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.redact import redact
from bot.storage.base import utcnow
from integrations.ticketing import notices
from integrations.ticketing.base import IDEM_LABEL_PREFIX, TicketDraft, TicketingBackend
from integrations.ticketing.drafting import TicketRequest, build_draft, normalise_urgency
from integrations.ticketing.models import Ticket, TicketOutbox
from integrations.ticketing.notices import TicketNoticeSink
from integrations.ticketing.settings import TicketingSettings
from integrations.ticketing.updates import record_event

log = logging.getLogger(__name__)
KEY_RE = re.compile(r"\b([A-Za-z][A-Za-z0-9_]{0,9})-(\d{1,7})\b")


def new_idem_key() -> str:
    """A fresh idempotency key (also the ticket's label in the tracker)."""
    return f"{IDEM_LABEL_PREFIX}{uuid.uuid4().hex}"


def stable_idem_key(*parts: str) -> str:
    """The same idempotency key for the same request every time (``parts`` name it, e.g. a Slack click).

    A surface that may run a request twice (a retry after a crash) passes it as the ticket
    submission's ``idem``: the second run finds the first ticket instead of opening another.
    """
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"{IDEM_LABEL_PREFIX}{digest[:32]}"


def idem_ref(idem_key: str) -> str:
    """A short, non-secret reference to a ticket for logs: the label prefix and 12 characters of the key.

    The whole key is a long random string that the log redaction (rightly) masks as a possible
    credential; this prefix survives it, so a log line can be matched to the ticket (``tickets outbox``
    and ``tickets show`` print the whole key, which starts with it).
    """
    return idem_key[: len(IDEM_LABEL_PREFIX) + 12] if idem_key.startswith(IDEM_LABEL_PREFIX) else idem_key[:12]


def log_ref(ticket: Ticket) -> str:
    """``IT-150 (helpdesk-0123456789ab)``, or just the reference while the ticket has no key."""
    return f"{ticket.key} ({idem_ref(ticket.idem_key)})" if ticket.key else idem_ref(ticket.idem_key)


def open_ticket(session: Session, settings: TicketingSettings, backend: TicketingBackend,
                req: TicketRequest, *, sink: TicketNoticeSink, secrets: Iterable[str] = ()) -> Ticket:
    """Record the ticket; create it now (local queue) or queue it in the outbox (Jira).

    Runs inside the caller's transaction: the turn and the ticket commit together.
    ``secrets`` are masked in everything stored and sent.
    """
    secrets = tuple(secrets)
    draft = build_draft(settings, req, secrets=secrets)
    ticket = Ticket(
        idem_key=req.idem_key, backend=backend.name, requester_user_key=req.requester_user_key,
        requester_email=req.requester_email, requester_name=req.requester_name, participants=[],
        summary=draft.summary, description=draft.description,
        employee_text=redact(req.details or req.summary, secrets),
        category=req.category, urgency=normalise_urgency(req.urgency), priority=draft.priority,
        project=draft.project, issue_type=draft.issue_type, components=draft.components,
        labels=draft.labels,
        extra={k: redact_value(v, secrets) for k, v in req.extra.items() if not k.startswith("_")},
        status="Queued" if not backend.immediate else "Open",
        status_category="queued" if not backend.immediate else "open",
    )
    session.add(ticket)
    session.flush()
    if backend.immediate:
        remote = backend.create(draft, session=session)
        ticket.key, ticket.url = remote.key, remote.url
        record_event(session, ticket, "created", actor=req.requester_user_key, backend=backend.name)
        triage = notices.new_for_triage(ticket)
        if triage is not None:
            sink.publish(session, triage)
    else:
        session.add(TicketOutbox(ticket_id=ticket.id))
        record_event(session, ticket, "queued", actor=req.requester_user_key, backend=backend.name)
    return ticket


def redact_value(value: Any, secrets: Sequence[str]) -> Any:
    """``value`` (text, or JSON made of lists and dicts) with every string redacted."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v, secrets) for v in value]
    return value


def draft_of(ticket: Ticket) -> TicketDraft:
    """The draft stored with a ticket (what the worker sends on every attempt)."""
    return TicketDraft(idem_key=ticket.idem_key, summary=ticket.summary, description=ticket.description,
                       project=ticket.project or "IT", issue_type=ticket.issue_type or "Task",
                       priority=ticket.priority, components=list(ticket.components or []),
                       labels=list(ticket.labels or []), requester_email=ticket.requester_email,
                       requester_name=ticket.requester_name)


def reroute(settings: TicketingSettings, ticket: Ticket) -> None:
    """Re-apply the configured routing (project, type, components, labels) to a queued ticket."""
    from integrations.ticketing.drafting import route

    project, issue_type, components, labels = route(settings, ticket.category or "general")
    ticket.project, ticket.issue_type, ticket.components = project, issue_type, components
    ticket.labels = [*labels, ticket.idem_key]
    ticket.priority = settings.jira.priority_map.get(ticket.urgency, ticket.priority)


def find_ticket(session: Session, key: str) -> Ticket | None:
    """The ticket with this key (any case), if any."""
    return session.scalars(select(Ticket).where(Ticket.key == key.upper())).first()


def is_participant(ticket: Ticket, *, user_key: str, email: str | None) -> bool:
    """The employee reported the ticket, or is listed as a participant."""
    if ticket.requester_user_key == user_key:
        return True
    mail = (email or "").lower()
    if mail and (ticket.requester_email or "").lower() == mail:
        return True
    people = {str(p).lower() for p in (ticket.participants or [])}
    return user_key.lower() in people or (bool(mail) and mail in people)


def open_tickets_of(session: Session, *, user_key: str, email: str | None) -> list[Ticket]:
    """The employee's tickets that are not resolved (queued ones included), newest first."""
    who = [Ticket.requester_user_key == user_key]
    if email:
        who.append(Ticket.requester_email == email)
    return list(session.scalars(select(Ticket).where(or_(*who), Ticket.status_category != "done")
                                .order_by(Ticket.created_at.desc()).limit(50)).all())


def tickets_of(session: Session, *, user_key: str, email: str | None, limit: int = 10) -> list[Ticket]:
    """The employee's tickets (any status), most recently updated first."""
    who = [Ticket.requester_user_key == user_key]
    if email:
        who.append(Ticket.requester_email == email)
    return list(session.scalars(select(Ticket).where(or_(*who))
                                .order_by(Ticket.updated_at.desc()).limit(limit)).all())


def mark_created(session: Session, ticket: Ticket, *, key: str, url: str | None,
                 remote_id: str | None) -> None:
    """Record the key the tracker gave a queued ticket."""
    ticket.key, ticket.url, ticket.remote_id = key, url, remote_id
    if ticket.status_category == "queued":
        ticket.status, ticket.status_category = "Open", "open"
    ticket.updated_at = utcnow()
