"""Outbox delivery: creates queued tickets in Jira with retries, backoff and an idempotency key.

Each outbox row is *claimed* (attempts + 1, next attempt pushed out by a lease)
and committed before Jira is called, so a crash or a second replica never
sends the same row twice at once. From the second attempt on, Jira is first
searched for the ticket's idempotency label (``helpdesk-<uuid>``): when an earlier
attempt did create the issue but the answer was lost, that issue is adopted
instead of creating a duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging
import weakref
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.backoff import backoff_seconds
from bot.errors import TicketingError
from bot.storage.base import utcnow
from bot.storage.session import Database
from integrations.ticketing import notices
from integrations.ticketing.base import RemoteTicket, TicketDraft, TicketingBackend, TrackerError
from integrations.ticketing.models import JiraWebhookDelivery, Ticket, TicketOutbox
from integrations.ticketing.notices import TicketNoticeSink
from integrations.ticketing.service import draft_of, idem_ref, log_ref, mark_created
from integrations.ticketing.settings import TicketingSettings
from integrations.ticketing.updates import record_event

log = logging.getLogger(__name__)
DELIVERY_RETENTION = dt.timedelta(days=14)  # Jira retries a webhook for hours, not weeks
_last_prune: weakref.WeakKeyDictionary[Database, dt.datetime] = weakref.WeakKeyDictionary()  # per database
AMBIGUOUS_RETRY_SECONDS = 60.0  # after a failure without an answer, so the idempotency search sees it
KEY_CLASH = ("Jira created {key}, but another ticket in the bot's database already has that key (was the "
             "local queue used with the same prefix?). Resolve the clash, then `helpdesk tickets outbox --retry`.")


@dataclass
class RoundResult:
    """What one delivery round did."""

    delivered: int = 0
    adopted: int = 0  # found by idempotency label: an earlier attempt had created it
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Claim:
    row_id: int
    attempts: int
    kind: str
    key: str | None = None
    payload: dict[str, Any] | None = None
    draft: TicketDraft | None = None


def run_once(db: Database, backend: TicketingBackend, settings: TicketingSettings, sink: TicketNoticeSink, *,
             limit: int | None = None, idempotent: bool = True) -> RoundResult:
    """Deliver due outbox rows once; returns what happened (the background job ignores it)."""
    result = RoundResult()
    _prune_deliveries(db)
    if backend.immediate:
        return result  # the local queue creates tickets within the turn
    claims = _claim(db, backend, settings, limit or settings.outbox_batch)
    for claim in claims:
        if claim.kind == "comment":
            _deliver_comment(db, backend, settings, claim, result)
    for claim in claims:
        if claim.kind != "comment":
            _deliver_ticket(db, backend, settings, sink, claim, result, idempotent=idempotent)
    return result


def _claim(db: Database, backend: TicketingBackend, settings: TicketingSettings, limit: int) -> list[_Claim]:
    """Claim due rows (committed before the tracker is called): comments first, then tickets."""
    lease = max(60.0, backend.timeout_seconds * 4)
    now = utcnow()
    claims: list[_Claim] = []
    with db.session() as session:
        stmt = (select(TicketOutbox).where(TicketOutbox.status == "pending",
                                           TicketOutbox.next_attempt_at <= now)
                .order_by(TicketOutbox.id).limit(limit))
        if db.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        for row in session.scalars(stmt).all():
            # optimistic claim: only one worker moves (attempts, next_attempt_at) forward
            won = cast("CursorResult[Any]", session.execute(
                update(TicketOutbox)
                .where(TicketOutbox.id == row.id, TicketOutbox.attempts == row.attempts,
                       TicketOutbox.status == "pending")
                .values(attempts=row.attempts + 1, next_attempt_at=now + dt.timedelta(seconds=lease))
                .execution_options(synchronize_session=False))).rowcount
            if won != 1:
                continue
            ticket = session.get(Ticket, row.ticket_id)
            assert ticket is not None  # the outbox row's foreign key
            if row.kind == "comment":
                claims.append(_Claim(row.id, row.attempts + 1, "comment", key=ticket.key,
                                     payload=dict(row.payload or {})))
            else:
                claims.append(_Claim(row.id, row.attempts + 1, "create", draft=draft_of(ticket)))
    return claims


def _still_ours(session: Session, claim: _Claim) -> TicketOutbox | None:
    """The row, unless the lease ran out and another worker (or `outbox --retry`) owns it now."""
    row = session.get(TicketOutbox, claim.row_id)
    if row is None or row.status != "pending" or row.attempts != claim.attempts:
        return None
    return row


def _deliver_ticket(db: Database, backend: TicketingBackend, settings: TicketingSettings, sink: TicketNoticeSink,
                    claim: _Claim, result: RoundResult, *, idempotent: bool) -> None:
    draft, attempts = claim.draft, claim.attempts
    assert draft is not None
    remote: RemoteTicket | None = None
    error: TicketingError | None = None
    adopted = False
    try:
        if idempotent and attempts > 1:
            remote = backend.find_by_idem(draft.idem_key)
            adopted = remote is not None
        if remote is None:
            remote = backend.create(draft)
    except TicketingError as exc:
        error = exc
    with db.session() as session:
        row = _still_ours(session, claim)
        if row is None:
            log.warning("outbox row %s was claimed again while Jira answered; leaving it to the "
                        "newer attempt", claim.row_id)
            return
        ticket = session.get(Ticket, row.ticket_id)
        assert ticket is not None
        if remote is not None:
            try:
                with session.begin_nested():
                    mark_created(session, ticket, key=remote.key, url=remote.url, remote_id=remote.remote_id)
                    session.flush()
            except IntegrityError:
                session.refresh(ticket)
                row.last_error = KEY_CLASH.format(key=remote.key)
                _fail(session, sink, row, ticket, attempts, result)
                log.error("ticket %s: %s", log_ref(ticket), row.last_error)
                return
            row.status, row.delivered_at, row.last_error = "done", utcnow(), None
            record_event(session, ticket, "created", backend=backend.name, attempts=attempts, adopted=adopted)
            sink.publish(session, notices.created(ticket))
            triage = notices.new_for_triage(ticket)
            if triage is not None:
                sink.publish(session, triage)
            result.delivered += 1
            result.adopted += int(adopted)
            log.info("ticket %s created in Jira as %s (attempt %s%s)", idem_ref(ticket.idem_key), remote.key,
                     attempts, ", adopted" if adopted else "")
            return
        assert error is not None
        row.last_error = (error.detail or error.user_message)[:1000]
        if not error.retryable or attempts >= settings.outbox_max_attempts:
            _fail(session, sink, row, ticket, attempts, result)
            log.error("ticket %s could not be created in Jira after %s attempts: %s; "
                      "retry with `helpdesk tickets outbox --retry %s`",
                      log_ref(ticket), attempts, row.last_error, row.id)
            return
        _reschedule(settings, row, error, attempts)
        result.retried += 1
        log.warning("ticket %s not delivered to Jira (attempt %s): %s", log_ref(ticket), attempts,
                    row.last_error)


def _fail(session: Session, sink: TicketNoticeSink, row: TicketOutbox, ticket: Ticket, attempts: int,
          result: RoundResult) -> None:
    """The tracker refused the ticket for good: keep the row (for --retry), tell the requester and IT."""
    row.status = "failed"
    result.failed += 1
    record_event(session, ticket, "delivery_failed", attempts=attempts, error=row.last_error)
    for notice in notices.failed(ticket):
        sink.publish(session, notice)


def _reschedule(settings: TicketingSettings, row: TicketOutbox, error: TicketingError | None,
                attempts: int) -> None:
    retry_after = error.retry_after if isinstance(error, TrackerError) else None
    delay = backoff_seconds(attempts, settings.outbox_backoff_seconds, settings.outbox_max_backoff_seconds,
                            retry_after)
    if error is not None and not (isinstance(error, TrackerError) and error.status_code is not None):
        # ambiguous (time-out, connection lost): Jira may have acted, and its search index lags
        delay = max(delay, AMBIGUOUS_RETRY_SECONDS)
    row.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)


def _deliver_comment(db: Database, backend: TicketingBackend, settings: TicketingSettings, claim: _Claim,
                     result: RoundResult) -> None:
    """Add the employee's comment to the Jira issue once (checked by its ref on retries)."""
    key, attempts, payload = claim.key, claim.attempts, claim.payload or {}
    error: TicketingError | None = None
    if key is not None:
        try:
            ref = str(payload.get("ref"))
            if not (attempts > 1 and backend.has_comment(key, ref)):
                backend.add_comment(key, str(payload.get("body", "")), author=str(payload.get("author")),
                                    ref=ref)
            if payload.get("transition"):  # the requester reopened it: move the issue after the comment
                _transition(backend, key, str(payload["transition"]))
        except TicketingError as exc:
            error = exc
    with db.session() as session:
        row = _still_ours(session, claim)
        if row is None:
            return  # claimed again meanwhile: the newer attempt decides
        if key is not None and error is None:
            row.status, row.delivered_at, row.last_error = "done", utcnow(), None
            result.delivered += 1
            return
        if key is None:  # the ticket itself is still queued: wait for it, without using up attempts
            row.attempts -= 1
        else:
            assert error is not None
            row.last_error = (error.detail or error.user_message)[:1000]
            if not error.retryable or attempts >= settings.outbox_max_attempts:
                row.status = "failed"
                result.failed += 1
                log.error("comment on %s could not be added: %s", key, row.last_error)
                return
            result.retried += 1
        _reschedule(settings, row, error, max(attempts, 1))


def _transition(backend: TicketingBackend, key: str, name: str) -> None:
    """Move the issue by the transition ``name``; a refusal is left to IT (the comment asks them)."""
    move = getattr(backend, "transition", None)
    if move is None:
        return
    try:
        move(key, name)
    except TicketingError as exc:
        if exc.retryable:
            raise  # Jira away: the row is retried (the comment, found by its ref, is not added twice)
        log.warning("could not move %s by the transition %r (%s); the comment asks IT to", key, name,
                    exc.detail or exc.user_message)


def _prune_deliveries(db: Database) -> None:
    """Forget webhook delivery ids older than the retention (at most once an hour)."""
    now = utcnow()
    last = _last_prune.get(db)
    if last is not None and now - last < dt.timedelta(hours=1):
        return
    _last_prune[db] = now
    with db.session() as session:
        session.execute(delete(JiraWebhookDelivery).where(
            JiraWebhookDelivery.received_at < now - DELIVERY_RETENTION))
