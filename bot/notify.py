"""Messages to employees outside a turn (ticket updates, lockout offers), via a DB outbox.

Producers call ``enqueue`` inside their transaction; ``deliver_pending`` (a
background job) hands each due row to the sender its channel registered, and
retries with backoff. Channels without a push sender (terminal) pick their
user's notifications up with ``take_for_user`` at the next turn.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.messages import Reply
from bot.storage.base import utcnow
from bot.storage.models import Notification

if TYPE_CHECKING:
    from bot.services import Services

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
    return user_key.split(":", 1)[0]


def deliver_pending(services: "Services", limit: int = 50) -> int:
    """Send due notifications through their channel's sender; returns how many were sent."""
    sent = 0
    now = utcnow()
    with services.db.session() as session:
        stmt = (select(Notification)
                .where(Notification.status == "pending", Notification.next_attempt_at <= now)
                .order_by(Notification.id).limit(limit))
        if services.db.dialect == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        for row in session.scalars(stmt).all():
            sender = services.channel_senders.get(channel_of(row.user_key))
            if sender is None:
                continue
            try:
                sender(row.user_key, Reply.from_dict(row.reply))
            except Exception as exc:  # the channel is down: retry later
                row.attempts += 1
                row.last_error = type(exc).__name__
                backoff = min(2 ** row.attempts, 600)
                row.next_attempt_at = now + dt.timedelta(seconds=backoff)
                if row.attempts >= MAX_ATTEMPTS:
                    row.status = "failed"
                log.warning("notification %s not delivered (attempt %s): %s",
                            row.id, row.attempts, type(exc).__name__)
                continue
            row.status = "sent"
            row.sent_at = utcnow()
            sent += 1
    return sent


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
