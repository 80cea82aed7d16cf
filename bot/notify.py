"""Messages to employees outside a turn (ticket updates, lockout offers), via a DB outbox.

Producers call ``enqueue`` inside their transaction; ``deliver_pending`` (a
background job) hands each due row to the sender its channel registered, and
retries with backoff. Channels without a push sender (terminal) pick their
user's notifications up with ``take_for_user`` at the next turn.

A row is ``pending`` → ``sending`` (claimed, with a lease) → ``sent``, back to
``pending`` with a backoff when the send fails, or ``failed`` after MAX_ATTEMPTS.
Delivery is exactly once when the channel's sender honours ``current_delivery``
(Slack does: bot.channels.slack.outbox_once); otherwise at least once.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from contextvars import ContextVar
from dataclasses import dataclass
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


# A claimed row is hidden from other workers this long. A worker that dies mid-send
# leaves the row "sending"; after the lease another worker takes it over *in doubt*
# (see DeliveryTag). It must exceed the longest send (Slack: 15 s timeout, 429 waits).
CLAIM_SECONDS = 120


@dataclass(frozen=True)
class DeliveryTag:
    """What a sender needs to deliver one outbox row exactly once.

    ``ref`` names the row (stable across attempts and replicas, unique per database
    row); a sender stamps it on what it posts. ``in_doubt`` says an earlier attempt
    may already have reached the employee (its worker died, or the call failed
    after the request left), so the sender must first look for ``ref`` in what it
    posted since ``since`` and not post again if it is there.
    """

    ref: str
    attempt: int
    in_doubt: bool
    since: dt.datetime


_DELIVERY: ContextVar[DeliveryTag | None] = ContextVar("helpdesk_outbox_delivery", default=None)


def current_delivery() -> DeliveryTag | None:
    """The outbox row being delivered by this thread right now (None outside a delivery)."""
    return _DELIVERY.get()


def _ref(row_id: int, created_at: dt.datetime) -> str:
    return f"n{row_id}.{calendar.timegm(created_at.timetuple())}"


@dataclass(frozen=True)
class _Claimed:
    row_id: int
    user_key: str
    payload: dict[str, Any]
    tag: DeliveryTag
    lease: dt.datetime


def _claim(db: Database, channels: list[str], limit: int, lease_seconds: float) -> list[_Claimed]:
    """Claim up to ``limit`` due rows addressed to ``channels``, oldest first.

    Only rows some sender can deliver are looked at, so rows for pull channels
    (terminal, HTTP API) never stand in front of deliverable ones. Due rows are
    ``pending`` ones and ``sending`` ones whose lease ran out (their worker died).
    Each is claimed by a guarded UPDATE to ``sending`` with a new lease, so two
    workers (threads or replicas) never both take it; the send then happens
    outside any transaction or row lock.
    """
    now = utcnow()
    lease = now + dt.timedelta(seconds=lease_seconds)
    addressed = or_(*[Notification.user_key.startswith(f"{c}:", autoescape=True) for c in channels])
    claimed: list[_Claimed] = []
    with db.session() as session:
        candidates = session.execute(
            select(Notification.id, Notification.user_key, Notification.reply, Notification.next_attempt_at,
                   Notification.status, Notification.attempts, Notification.created_at)
            .where(Notification.status.in_(("pending", "sending")), Notification.next_attempt_at <= now,
                   addressed)
            .order_by(Notification.next_attempt_at, Notification.id).limit(limit)).all()
        for row_id, user_key, reply, due, status, attempts, created in candidates:
            taken = session.execute(  # type: ignore[attr-defined]  # an UPDATE's result has rowcount
                update(Notification)
                .where(Notification.id == row_id, Notification.status == status,
                       Notification.next_attempt_at == due)
                .values(status="sending", next_attempt_at=lease)).rowcount
            if taken == 1:
                tag = DeliveryTag(ref=_ref(row_id, created), attempt=attempts + 1,
                                  in_doubt=status == "sending" or attempts > 0,
                                  since=created - dt.timedelta(seconds=60))
                claimed.append(_Claimed(row_id, user_key, reply, tag, lease))
    return claimed


def deliver_pending(services: Services, limit: int = 50, lease_seconds: float = CLAIM_SECONDS) -> int:
    """Send due notifications through their channel's sender; returns how many were sent.

    Exactly once: each row is marked ``sending`` before the call, and the call runs
    with the row's :class:`DeliveryTag` (``current_delivery``), which a sender stamps
    on what it posts and, when the row is in doubt, looks for before posting again.
    """
    senders = dict(services.channel_senders)
    if not senders:
        return 0
    sent = 0
    for job in _claim(services.db, sorted(senders), limit, lease_seconds):
        error: Exception | None = None
        token = _DELIVERY.set(job.tag)
        try:
            senders[channel_of(job.user_key)](job.user_key, Reply.from_dict(job.payload))
        except Exception as exc:  # the channel is down: retry later
            error = exc
        finally:
            _DELIVERY.reset(token)
        with services.db.session() as session:
            row = session.get(Notification, job.row_id)
            if row is None or row.status != "sending":
                continue
            if error is None:
                row.status, row.sent_at = "sent", utcnow()
                sent += 1
                continue
            if row.next_attempt_at != job.lease:
                continue  # our lease ran out and another worker holds the row now
            row.attempts += 1
            row.status = "pending"
            row.last_error = type(error).__name__
            row.next_attempt_at = utcnow() + dt.timedelta(seconds=backoff_seconds(row.attempts, 2.0, 600.0))
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            log.warning("notification %s not delivered (attempt %s): %s",
                        job.row_id, row.attempts, type(error).__name__)
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
