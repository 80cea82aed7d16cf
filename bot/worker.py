"""Background jobs run by `helpdesk serve`: each job is a function of Services, run periodically."""

from __future__ import annotations

import importlib
import logging
import threading
from typing import Callable

from bot.services import Services

log = logging.getLogger(__name__)

# "module:function" -> each function takes Services and does one round of work.
JOBS: list[str] = [
    "bot.notify:deliver_pending",
    "integrations.ticketing.worker:run_once",
    "integrations.directory.watch:run_once",
]


def load_jobs() -> list[tuple[str, Callable[[Services], object]]]:
    jobs = []
    for path in JOBS:
        module, _, attr = path.partition(":")
        jobs.append((path, getattr(importlib.import_module(module), attr)))
    return jobs


class Worker:
    """Runs every job in turn on one daemon thread until stopped."""

    def __init__(self, services: Services, interval: float | None = None) -> None:
        self.services = services
        self.interval = interval or services.settings.server.worker_interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="helpdesk-worker", daemon=True)
        self.jobs = load_jobs()

    def run_once(self) -> None:
        for name, job in self.jobs:
            try:
                job(self.services)
            except Exception:
                log.exception("background job %s failed", name)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
