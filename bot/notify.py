"""Messages to employees outside a turn (ticket updates, lockout offers), via a DB outbox.

Producers call ``enqueue`` inside their transaction; ``deliver_pending`` (a
background job) hands each due row to the sender its channel registered, and
retries with backoff. Channels without a push sender (terminal) pick their
user's notifications up with ``take_for_user`` at the next turn.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.backoff import backoff_seconds
from bot.messages import Reply
from bot.storage.base import utcnow
from bot.storage.models import Notification

if TYPE_CHECKING:
    from bot.services import Services
    from bot.storage.session import Database

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 20
SENSITIVE_UNDELIVERED = ("Slack did not accept my last message, and it held something I only show once. "
                         "Please ask me again.")


def enqueue(session: Session, *, user_key: str, reply: Reply, email: str | None = None,
            dedupe_key: str | None = None) -> Notification | None:
    """Queue ``reply`` for ``user_key``; a repeated ``dedupe_key`` is ignored (returns None).

    A sensitive reply (one carrying a credential) is never stored: the employee is
    asked to repeat the request instead.
    """
    if reply.sensitive:
        reply = Reply(text=SENSITIVE_UNDELIVERED, private=True, turn_id=reply.turn_id,
                      intent=reply.intent)
    if dedupe_key is not None:
        existing = session.scalars(select(Notification).where(Notification.dedupe_key == dedupe_key)).first()
        if existing is not None:
            return None
    row = Notification(user_key=user_key, email=email, reply=reply.to_dict(), dedupe_key=dedupe_key)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent producer won the race
        return None
    return row


def channel_of(user_key: str) -> str:
    """The channel part of a user key (``slack:U123`` → ``slack``)."""
    return user_key.split(":", 1)[0]


# A claimed row is hidden from other workers this long; a worker that dies mid-send
# leaves the row to be retried after it.
CLAIM_SECONDS = 120


def _claim(db: Database, channels: list[str], limit: int) -> list[tuple[int, str, dict[str, Any]]]:
    """Claim up to ``limit`` due rows addressed to ``channels``, oldest first.

    Only rows some sender can deliver are looked at, so rows for pull channels
    (terminal, HTTP API) never stand in front of deliverable ones. Each row is
    claimed by moving its due time into the future with a guarded UPDATE, so two
    workers (threads or replicas) never both take it; the send then happens
    outside any transaction or row lock.
    """
    now = utcnow()
    lease = now + dt.timedelta(seconds=CLAIM_SECONDS)
    addressed = or_(*[Notification.user_key.startswith(f"{c}:", autoescape=True) for c in channels])
    claimed: list[tuple[int, str, dict[str, Any]]] = []
    with db.session() as session:
        candidates = session.execute(
            select(Notification.id, Notification.user_key, Notification.reply, Notification.next_attempt_at)
            .where(Notification.status == "pending", Notification.next_attempt_at <= now, addressed)
            .order_by(Notification.next_attempt_at, Notification.id).limit(limit)).all()
        for row_id, user_key, reply, due in candidates:
            taken = session.execute(  # type: ignore[attr-defined]  # an UPDATE's result has rowcount
                update(Notification)
                .where(Notification.id == row_id, Notification.status == "pending",
                       Notification.next_attempt_at == due)
                .values(next_attempt_at=lease)).rowcount
            if taken == 1:
                claimed.append((row_id, user_key, reply))
    return claimed


def deliver_pending(services: Services, limit: int = 50) -> int:
    """Send due notifications through their channel's sender; returns how many were sent."""
    senders = dict(services.channel_senders)
    if not senders:
        return 0
    sent = 0
    for row_id, user_key, payload in _claim(services.db, sorted(senders), limit):
        error: Exception | None = None
        try:
            senders[channel_of(user_key)](user_key, Reply.from_dict(payload))
        except Exception as exc:  # the channel is down: retry later
            error = exc
        with services.db.session() as session:
            row = session.get(Notification, row_id)
            if row is None:
                continue
            if error is None:
                row.status, row.sent_at = "sent", utcnow()
                sent += 1
                continue
            row.attempts += 1
            row.last_error = type(error).__name__
            row.next_attempt_at = utcnow() + dt.timedelta(seconds=backoff_seconds(row.attempts, 2.0, 600.0))
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            log.warning("notification %s not delivered (attempt %s): %s",
                        row_id, row.attempts, type(error).__name__)
    return sent


def pending_counts(session: Session) -> dict[str, dict[str, int]]:
    """Notifications per channel and status (for `helpdesk tickets outbox` and health)."""
    counts: dict[str, dict[str, int]] = {}
    for user_key, status in session.execute(select(Notification.user_key, Notification.status)
                                            .where(Notification.status != "sent")):
        bucket = counts.setdefault(channel_of(user_key), {})
        bucket[status] = bucket.get(status, 0) + 1
    return counts


def take_for_user(session: Session, user_key: str) -> list[Reply]:
    """Pending notifications of one user, marked sent (for pull channels like the terminal)."""
    rows = session.scalars(
        select(Notification).where(Notification.user_key == user_key, Notification.status == "pending")
        .order_by(Notification.id)
    ).all()
    replies = []
    for row in rows:
        row.status = "sent"
        row.sent_at = utcnow()
        replies.append(Reply.from_dict(row.reply))
    return replies
