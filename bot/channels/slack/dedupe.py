"""Process each Slack event once: a unique row per ``event_id`` (holds across replicas)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence

from sqlalchemy import CursorResult, delete
from sqlalchemy.exc import IntegrityError

from bot.channels.slack.models import SlackProcessedEvent
from bot.storage.base import utcnow
from bot.storage.session import Database

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 600

# Other short-lived Slack rows forgotten on the same schedule ("Share in channel" replies).
Purge = Callable[[dt.datetime], int]


class EventLedger:
    """``claim(event_id)`` is True exactly once per id within the retention window."""

    def __init__(self, db: Database, retention_hours: int, *, also_purge: Sequence[Purge] = ()) -> None:
        self.db = db
        self.retention = dt.timedelta(hours=retention_hours)
        self.also_purge = tuple(also_purge)
        self._last_purge = 0.0

    def claim(self, event_id: str) -> bool:
        """Record ``event_id``; False when it was already recorded (a redelivery, or another replica)."""
        self._maybe_purge()
        try:
            with self.db.session() as session:
                session.add(SlackProcessedEvent(event_id=event_id[:128]))
        except IntegrityError:
            log.info("duplicate Slack event %s ignored", event_id)
            return False
        return True

    def release(self, event_id: str) -> None:
        """Processing failed before anything was sent: let Slack's retry run it again."""
        with self.db.session() as session:
            session.execute(delete(SlackProcessedEvent).where(SlackProcessedEvent.event_id == event_id[:128]))

    def purge(self) -> int:
        """Forget event ids (and the ``also_purge`` rows) older than the retention; the number of ids gone."""
        cutoff = utcnow() - self.retention
        with self.db.session() as session:
            gone = session.execute(delete(SlackProcessedEvent).where(SlackProcessedEvent.received_at < cutoff))
        for purge in self.also_purge:
            purge(cutoff)
        return gone.rowcount if isinstance(gone, CursorResult) else 0

    def _maybe_purge(self) -> None:
        now = time.monotonic()
        if now - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        try:
            self.purge()
        except Exception:  # housekeeping must never block an event
            log.warning("could not purge old Slack event ids", exc_info=True)
