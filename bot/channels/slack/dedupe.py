"""Process each Slack event once: a unique row per ``event_id`` (holds across replicas)."""

from __future__ import annotations

import datetime as dt
import logging
import time

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.channels.slack.models import SlackProcessedEvent, SlackSharedReply
from bot.storage.base import utcnow
from bot.storage.session import Database

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 600


class EventLedger:
    """``claim(event_id)`` is True exactly once per id within the retention window."""

    def __init__(self, db: Database, retention_hours: int) -> None:
        self.db = db
        self.retention = dt.timedelta(hours=retention_hours)
        self._last_purge = 0.0

    def claim(self, event_id: str) -> bool:
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
        cutoff = utcnow() - self.retention
        with self.db.session() as session:
            gone = session.execute(delete(SlackProcessedEvent).where(SlackProcessedEvent.received_at < cutoff))
            session.execute(delete(SlackSharedReply).where(SlackSharedReply.created_at < cutoff))
        return int(gone.rowcount or 0)  # type: ignore[attr-defined]

    def _maybe_purge(self) -> None:
        now = time.monotonic()
        if now - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        try:
            self.purge()
        except Exception:  # housekeeping must never block an event
            log.warning("could not purge old Slack event ids", exc_info=True)
