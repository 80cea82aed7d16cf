"""Background jobs run by `helpdesk serve`: each a named function of explicit collaborators, run periodically."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from bot.errors import HelpdeskError
from bot.services import Services

log = logging.getLogger(__name__)
REPEAT_LOG_SECONDS = 300.0


@dataclass(frozen=True)
class Job:
    """One round of background work; ``run`` returns whatever it reports (ignored here)."""

    name: str
    run: Callable[[], object]


def build_jobs(services: Services) -> list[Job]:
    """Every background job, wired with exactly what it uses."""
    from bot.notify import deliver_pending
    from integrations.directory import watch
    from integrations.ticketing import followups
    from integrations.ticketing import worker as ticket_outbox

    return [
        Job("notifications", lambda: deliver_pending(services)),
        Job("ticket outbox", lambda: ticket_outbox.run_once(services.db, services.ticketing,
                                                            services.settings.ticketing, services.notices)),
        Job("ticket reminders", lambda: followups.remind_due(services.db, services.settings.ticketing,
                                                             services.notices)),
        Job("lockout watch", lambda: watch.run_once(services.db, lambda: services.directory,
                                                    services.settings.directory, services.notices)),
    ]


class Worker:
    """Runs every job in turn on one daemon thread until stopped."""

    def __init__(self, services: Services, interval: float | None = None) -> None:
        self.services = services
        self.interval = interval or services.settings.server.worker_interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="helpdesk-worker", daemon=True)
        self.jobs = build_jobs(services)
        self._failing: dict[str, tuple[str, float]] = {}  # job -> (error kind, when last logged)

    def run_once(self) -> None:
        """One round of every job; a failing job is logged and does not stop the others.

        A failure is logged when it starts, when it changes, and then once every
        ``REPEAT_LOG_SECONDS`` while it lasts (a database outage is one line a few
        minutes, not a traceback per job and round); recovery is logged too.
        """
        for job in self.jobs:
            try:
                job.run()
            except Exception as exc:  # noqa: BLE001 - one job never stops the others
                self._failed(job, exc)
            else:
                if self._failing.pop(job.name, None) is not None:
                    log.info("background job %s works again", job.name)

    def _failed(self, job: Job, exc: Exception) -> None:
        kind = type(exc).__name__
        now = time.monotonic()
        previous = self._failing.get(job.name)
        if previous is not None and previous[0] == kind and now - previous[1] < REPEAT_LOG_SECONDS:
            return
        self._failing[job.name] = (kind, now)
        if isinstance(exc, (HelpdeskError, SQLAlchemyError)):  # an outside system or the database is down
            log.warning("background job %s failed: %s (retrying every %.0f s)", job.name, kind, self.interval)
        else:
            log.exception("background job %s failed", job.name)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the worker to stop and wait (up to 10 s) for the current round."""
        self._stop.set()
        self._thread.join(timeout=10)
