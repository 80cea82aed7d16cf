"""Background jobs run by `helpdesk serve`: each a named function of explicit collaborators, run periodically."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bot.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One round of background work; ``run`` returns whatever it reports (ignored here)."""

    name: str
    run: Callable[[], object]


def build_jobs(services: Services) -> list[Job]:
    """Every background job, wired with exactly what it uses."""
    from bot.notify import deliver_pending
    from integrations.directory import watch
    from integrations.ticketing import worker as ticket_outbox

    return [
        Job("notifications", lambda: deliver_pending(services)),
        Job("ticket outbox", lambda: ticket_outbox.run_once(services)),
        Job("lockout watch", lambda: watch.run_once(services)),
    ]


class Worker:
    """Runs every job in turn on one daemon thread until stopped."""

    def __init__(self, services: Services, interval: float | None = None) -> None:
        self.services = services
        self.interval = interval or services.settings.server.worker_interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="helpdesk-worker", daemon=True)
        self.jobs = build_jobs(services)

    def run_once(self) -> None:
        """One round of every job; a failing job is logged and does not stop the others."""
        for job in self.jobs:
            try:
                job.run()
            except Exception:
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
