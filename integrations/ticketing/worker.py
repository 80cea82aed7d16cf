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
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.errors import TicketingError
from bot.storage.base import utcnow
from integrations.ticketing.base import RemoteTicket
from integrations.ticketing.models import JiraWebhookDelivery, Ticket, TicketOutbox
from integrations.ticketing.notifications import notify_created, notify_failed, notify_triage
from integrations.ticketing.service import draft_of, mark_created
from integrations.ticketing.updates import record_event

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
DELIVERY_RETENTION = dt.timedelta(days=14)  # Jira retries a webhook for hours, not weeks
_last_prune: list[dt.datetime] = []
AMBIGUOUS_RETRY_SECONDS = 60.0  # after a failure without an answer, so the idempotency search sees it


@dataclass
class RoundResult:
    delivered: int = 0
    adopted: int = 0  # found by idempotency label: an earlier attempt had created it
    retried: int = 0
    failed: int = 0


def backoff_seconds(attempts: int, base: float, cap: float, retry_after: float | None = None) -> float:
    delay = min(cap, base * (2 ** max(attempts - 1, 0)))
    delay = delay * (0.75 + random.random() * 0.5)  # jitter, so replicas do not retry in step
    return max(delay, retry_after or 0.0)


def run_once(services: "Services", *, limit: int | None = None, idempotent: bool = True) -> RoundResult:
    """Deliver due outbox rows once; returns what happened (the background job ignores it)."""
    backend = services.ticketing
    result = RoundResult()
    _prune_deliveries(services)
    if getattr(backend, "immediate", True):
        return result  # the local queue creates tickets within the turn
    cfg = services.settings.ticketing
    lease = max(60.0, backend.settings.timeout_seconds * 4)
    now = utcnow()
    with services.db.session() as session:
        stmt = (select(TicketOutbox).where(TicketOutbox.status == "pending",
                                           TicketOutbox.next_attempt_at <= now)
                .order_by(TicketOutbox.id).limit(limit or cfg.outbox_batch))
        if services.db.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        claimed, claimed_comments = [], []
        for row in session.scalars(stmt).all():
            # optimistic claim: only one worker moves (attempts, next_attempt_at) forward
            won = session.execute(
                update(TicketOutbox)
                .where(TicketOutbox.id == row.id, TicketOutbox.attempts == row.attempts,
                       TicketOutbox.status == "pending")
                .values(attempts=row.attempts + 1, next_attempt_at=now + dt.timedelta(seconds=lease))
                .execution_options(synchronize_session=False)).rowcount
            if won != 1:
                continue
            ticket = session.get(Ticket, row.ticket_id)
            if row.kind == "comment":
                claimed_comments.append((row.id, row.attempts + 1, ticket.key, dict(row.payload or {})))
            else:
                claimed.append((row.id, row.attempts + 1, draft_of(ticket)))
    for row_id, attempts, key, payload in claimed_comments:
        _deliver_comment(services, row_id, attempts, key, payload, result)
    for row_id, attempts, draft in claimed:
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
        with services.db.session() as session:
            row = session.get(TicketOutbox, row_id)
            if row.status != "pending" or row.attempts != attempts:
                # the lease ran out and another worker (or `outbox --retry`) owns the row now
                log.warning("outbox row %s was claimed again while Jira answered; leaving it to the "
                            "newer attempt", row_id)
                continue
            ticket = session.get(Ticket, row.ticket_id)
            if remote is not None:
                try:
                    with session.begin_nested():
                        mark_created(session, ticket, key=remote.key, url=remote.url,
                                     remote_id=remote.remote_id)
                        session.flush()
                except IntegrityError:
                    session.refresh(ticket)
                    row.status = "failed"
                    row.last_error = (f"Jira created {remote.key}, but another ticket in the bot's database "
                                      "already has that key (was the local queue used with the same "
                                      "prefix?). Resolve the clash, then `helpdesk tickets outbox --retry`.")
                    result.failed += 1
                    record_event(session, ticket, "delivery_failed", attempts=attempts, error=row.last_error)
                    notify_failed(session, ticket, services.settings)
                    log.error("ticket %s: %s", ticket.idem_key, row.last_error)
                    continue
                row.status, row.delivered_at, row.last_error = "done", utcnow(), None
                record_event(session, ticket, "created", backend=backend.name, attempts=attempts,
                             adopted=adopted)
                notify_created(session, ticket)
                notify_triage(session, ticket, services.settings)
                result.delivered += 1
                result.adopted += int(adopted)
                log.info("ticket %s created in Jira as %s (attempt %s%s)", ticket.idem_key, remote.key,
                         attempts, ", adopted" if adopted else "")
                continue
            assert error is not None
            row.last_error = (error.detail or error.user_message)[:1000]
            if not error.retryable or attempts >= cfg.outbox_max_attempts:
                row.status = "failed"
                result.failed += 1
                record_event(session, ticket, "delivery_failed", attempts=attempts, error=row.last_error)
                notify_failed(session, ticket, services.settings)
                log.error("ticket %s could not be created in Jira after %s attempts: %s; "
                          "retry with `helpdesk tickets outbox --retry %s`",
                          ticket.idem_key, attempts, row.last_error, row.id)
                continue
            _reschedule(services, row, error, attempts)
            result.retried += 1
            log.warning("ticket %s not delivered to Jira (attempt %s): %s", ticket.idem_key, attempts,
                        row.last_error)
    return result


def _reschedule(services: "Services", row: TicketOutbox, error: TicketingError | None, attempts: int) -> None:
    cfg = services.settings.ticketing
    delay = backoff_seconds(attempts, cfg.outbox_backoff_seconds, cfg.outbox_max_backoff_seconds,
                            getattr(error, "retry_after", None))
    if error is not None and getattr(error, "status_code", None) is None:
        # ambiguous (time-out, connection lost): Jira may have acted, and its search index lags
        delay = max(delay, AMBIGUOUS_RETRY_SECONDS)
    row.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)


def _deliver_comment(services: "Services", row_id: int, attempts: int, key: str | None,
                     payload: dict, result: RoundResult) -> None:
    """Add the employee's comment to the Jira issue once (checked by its ref on retries)."""
    backend = services.ticketing
    error: TicketingError | None = None
    if key is not None:
        try:
            ref = str(payload.get("ref"))
            if not (attempts > 1 and backend.has_comment(key, ref)):
                backend.add_comment(key, str(payload.get("body", "")), author=str(payload.get("author")),
                                    ref=ref)
        except TicketingError as exc:
            error = exc
    with services.db.session() as session:
        row = session.get(TicketOutbox, row_id)
        if row.status != "pending" or row.attempts != attempts:
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
            if not error.retryable or attempts >= services.settings.ticketing.outbox_max_attempts:
                row.status = "failed"
                result.failed += 1
                log.error("comment on %s could not be added: %s", key, row.last_error)
                return
            result.retried += 1
        _reschedule(services, row, error, max(attempts, 1))


def _prune_deliveries(services: "Services") -> None:
    """Forget webhook delivery ids older than the retention (at most once an hour)."""
    now = utcnow()
    if _last_prune and now - _last_prune[-1] < dt.timedelta(hours=1):
        return
    _last_prune[:] = [now]
    with services.db.session() as session:
        session.execute(delete(JiraWebhookDelivery).where(
            JiraWebhookDelivery.received_at < now - DELIVERY_RETENTION))
