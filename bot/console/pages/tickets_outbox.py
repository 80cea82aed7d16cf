"""What the health page shows about the two delivery queues: the ticket outbox (escalations on their
way to Jira) and chat notifications (messages to employees), and the notification "retry now".

The ticket outbox's rows and its requeue rule are integrations/ticketing/queue.py's
(``outbox_rows``, ``requeue``); notification counts per channel are bot.notify's ``pending_counts``
(both as `helpdesk tickets outbox` prints them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import InvalidInputError
from bot.notify import channel_of, pending_counts
from bot.storage.base import utcnow
from bot.storage.models import Notification
from integrations.ticketing import queue

STUCK_SHOWN = 50


@dataclass
class QueueSummary:
    """Undelivered rows of one queue (or one channel): how many wait, retry, failed; the oldest's time."""

    name: str
    pending: int = 0
    retrying: int = 0  # pending after at least one failed attempt
    failed: int = 0
    oldest: dt.datetime | None = None
    note: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, status: str, attempts: int, created_at: dt.datetime) -> None:
        """Count one undelivered row."""
        if status == "failed":
            self.failed += 1
        else:
            self.pending += 1
            self.retrying += attempts > 0
        self.oldest = created_at if self.oldest is None else min(self.oldest, created_at)


def ticket_outbox(session: Session) -> QueueSummary:
    """The ticket outbox's undelivered rows (``queue.outbox_rows``) and their summary."""
    summary = QueueSummary("Ticket outbox (to Jira)")
    summary.rows = queue.outbox_rows(session)
    for row in summary.rows:
        summary.add(row["status"], row["attempts"], row["created_at"])
    return summary


PUSHED = "the worker sends them, retrying with backoff"
PULLED = "no sender pushes this channel: the user gets them at their next message"


def notifications(session: Session, push_channels: Collection[str]) -> list[QueueSummary]:
    """Per channel: undelivered notifications (``pending_counts``), with the stuck ones listed.

    ``push_channels`` have a registered sender (Slack); the others (terminal, HTTP API) wait for the user.
    """
    counts = pending_counts(session)
    by_channel = {name: QueueSummary(name, note=PUSHED if name in push_channels else PULLED)
                  for name in sorted(counts)}
    for summary in by_channel.values():
        summary.pending = counts[summary.name].get("pending", 0)
        summary.failed = counts[summary.name].get("failed", 0)
    stmt = (select(Notification.id, Notification.user_key, Notification.status, Notification.attempts,
                   Notification.last_error, Notification.next_attempt_at, Notification.created_at,
                   Notification.reply)
            .where(Notification.status != "sent").order_by(Notification.id))
    for row_id, user_key, status, attempts, error, due, created, reply in session.execute(stmt):
        channel = channel_of(user_key)
        summary = by_channel.setdefault(channel, QueueSummary(channel, note=PUSHED if channel in push_channels
                                                              else PULLED))
        summary.retrying += status == "pending" and attempts > 0
        summary.oldest = created if summary.oldest is None else min(summary.oldest, created)
        if (status == "failed" or attempts > 0) and len(summary.rows) < STUCK_SHOWN:
            summary.rows.append({"id": row_id, "user_key": user_key, "status": status, "attempts": attempts,
                                 "last_error": error, "next_attempt_at": due if status == "pending" else None,
                                 "created_at": created, "ticket": (reply or {}).get("ticket_key")})
    return list(by_channel.values())


def requeue_notifications(session: Session, ids: Sequence[int]) -> list[int]:
    """Failed notifications back in the queue, due now; returns the ids requeued.

    Pending rows are left alone (as ``queue.requeue`` leaves pending outbox rows): one may be in a
    sender's hands right now, and resetting it could send the message twice.
    """
    rows = session.scalars(select(Notification).where(Notification.id.in_(list(ids)))).all()
    if len(rows) < len(set(ids)):
        raise InvalidInputError("That notification does not exist any more (reload the page).")
    requeued = []
    for row in rows:
        if row.status == "failed":
            row.status, row.next_attempt_at = "pending", utcnow()
            requeued.append(row.id)
    return requeued
