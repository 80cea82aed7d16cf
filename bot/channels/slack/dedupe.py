"""The Slack inbox: each delivery is claimed once (a unique row per key, across replicas) and kept until answered.

The row is written *before* the ack, so an acknowledged event is never only in
memory: it is ``pending`` until the turn is answered (``done``), given up on
(``failed``) or refused by the rate limit (``refused``). The replica that wrote
it owns it for ``lease`` seconds and renews that while it works on it; a row
whose lease ran out (its replica died) is taken over by any replica with a
guarded ``UPDATE`` (``SKIP LOCKED`` on PostgreSQL), so each one is answered once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.channels.slack.models import SlackProcessedEvent
from bot.redact import redact
from bot.storage.base import utcnow
from bot.storage.session import Database

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 600
KEY_LENGTH = 128
PENDING, DONE, FAILED, REFUSED = "pending", "done", "failed", "refused"
# free text in a job; stored redacted (the live turn uses the original, in memory)
FREE_TEXT = {"text", "summary", "details", "message_text"}
NOT_STORED = {"message_blocks"}  # needed only by the live turn (cosmetic updates)

# Other Slack rows forgotten on the same schedule (see :mod:`.retention`): cutoff → rows deleted.
Purge = Callable[[dt.datetime], int]
Job = dict[str, Any]


@dataclass(frozen=True)
class Taken:
    """A pending row this replica took over: its key, its job and how often it was tried."""

    key: str
    job: Job
    attempts: int


def stored_copy(job: Job, secrets: Iterable[str] = ()) -> Job:
    """What the database keeps of ``job``: free text redacted, live-only parts dropped."""
    kept = tuple(secrets)

    def clean(key: str | None, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(k, v) for k, v in value.items() if k not in NOT_STORED}
        if isinstance(value, list):
            return [clean(key, v) for v in value]
        if isinstance(value, str) and key in FREE_TEXT:
            return redact(value, kept)
        return value

    return clean(None, job)


def replica_id() -> str:
    """A name for this process, unique across replicas and restarts."""
    return f"{socket.gethostname()[:36]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class EventLedger:
    """``claim``/``record`` are True exactly once per key within the retention window."""

    def __init__(self, db: Database, retention_hours: int, *, also_purge: Mapping[str, Purge] | None = None,
                 lease_seconds: float = 60.0, max_attempts: int = 3, secrets: Iterable[str] = ()) -> None:
        self.db = db
        self.retention = dt.timedelta(hours=retention_hours)
        self.also_purge = dict(also_purge or {})
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.secrets = tuple(secrets)
        self.owner = replica_id()
        self._last_purge = 0.0

    # --- the claim ------------------------------------------------------------
    def claim(self, event_id: str) -> bool:
        """Record ``event_id`` as handled; False when it was already recorded (a redelivery, or another replica)."""
        return self._insert(SlackProcessedEvent(event_id=event_id[:KEY_LENGTH], state=DONE))

    def record(self, key: str, job: Job, *, state: str = PENDING) -> bool:
        """Claim ``key`` and keep ``job`` durably until it is finished; False for a duplicate.

        Database errors propagate: the caller tells the employee instead of acking silently.
        """
        pending = state == PENDING
        row = SlackProcessedEvent(event_id=key[:KEY_LENGTH], state=state, kind=str(job.get("kind"))[:16],
                                  job=stored_copy(job, self.secrets) if pending else None,
                                  claimed_by=self.owner if pending else None,
                                  claimed_at=utcnow() if pending else None, attempts=1)
        return self._insert(row)

    def _insert(self, row: SlackProcessedEvent) -> bool:
        self._maybe_purge()
        try:
            with self.db.session() as session:
                session.add(row)
        except IntegrityError:
            log.info("duplicate Slack delivery %s ignored", row.event_id)
            return False
        return True

    def release(self, event_id: str) -> None:
        """Forget ``event_id`` (it may be claimed again)."""
        with self.db.session() as session:
            session.execute(delete(SlackProcessedEvent).where(SlackProcessedEvent.event_id == event_id[:KEY_LENGTH]))

    # --- the work ---------------------------------------------------------------
    def finish(self, key: str, state: str = DONE) -> None:
        """The row is answered (or given up on): it leaves ``pending`` and its job is forgotten."""
        with self.db.session() as session:
            session.execute(update(SlackProcessedEvent)
                            .where(SlackProcessedEvent.event_id == key[:KEY_LENGTH],
                                   SlackProcessedEvent.state == PENDING)
                            .values(state=state, job=None, claimed_at=None))

    def renew(self, keys: Iterable[str]) -> None:
        """Keep the lease on the rows this replica is still working on."""
        wanted = [k[:KEY_LENGTH] for k in keys]
        if not wanted:
            return
        with self.db.session() as session:
            session.execute(update(SlackProcessedEvent)
                            .where(SlackProcessedEvent.event_id.in_(wanted),
                                   SlackProcessedEvent.claimed_by == self.owner,
                                   SlackProcessedEvent.state == PENDING)
                            .values(claimed_at=utcnow()))

    def take_stale(self, limit: int = 20) -> list[Taken]:
        """Take over pending rows whose lease ran out (their replica died); each goes to one replica."""
        now = utcnow()
        cutoff = now - self.lease
        taken: list[Taken] = []
        with self.db.session() as session:
            query = (select(SlackProcessedEvent.event_id, SlackProcessedEvent.claimed_at)
                     .where(SlackProcessedEvent.state == PENDING, SlackProcessedEvent.claimed_at < cutoff)
                     .order_by(SlackProcessedEvent.received_at).limit(limit))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            for key, claimed_at in session.execute(query).all():
                won = session.execute(update(SlackProcessedEvent)
                                      .where(SlackProcessedEvent.event_id == key,
                                             SlackProcessedEvent.state == PENDING,
                                             SlackProcessedEvent.claimed_at == claimed_at)
                                      .values(claimed_by=self.owner, claimed_at=now,
                                              attempts=SlackProcessedEvent.attempts + 1))
                if not isinstance(won, CursorResult) or won.rowcount != 1:
                    continue  # another replica was quicker
                row = session.get(SlackProcessedEvent, key)
                if row is not None:
                    taken.append(Taken(key=key, job=dict(row.job or {}), attempts=row.attempts))
        return taken

    # --- housekeeping ---------------------------------------------------------
    def purge(self) -> dict[str, int]:
        """Forget keys (and the ``also_purge`` rows) older than the retention; how many rows went, by table."""
        cutoff = utcnow() - self.retention
        with self.db.session() as session:
            gone = session.execute(delete(SlackProcessedEvent).where(SlackProcessedEvent.received_at < cutoff))
        counts = {"event ids": gone.rowcount if isinstance(gone, CursorResult) else 0}
        for name, purge in self.also_purge.items():
            counts[name] = purge(cutoff)
        if any(counts.values()):
            log.info("purged Slack rows older than %d h: %s", self.retention // dt.timedelta(hours=1),
                     ", ".join(f"{count} {name}" for name, count in counts.items()))
        return counts

    def _maybe_purge(self) -> None:
        now = time.monotonic()
        if now - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        try:
            self.purge()
        except Exception:  # housekeeping must never block an event
            log.warning("could not purge old Slack event ids")
