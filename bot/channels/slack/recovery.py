"""Acknowledged but unanswered: take over the inbox rows of a replica that died, answer each once.

On start-up and then every few seconds, each replica renews the lease on the
rows it is working on and takes over rows whose lease ran out
(:meth:`~bot.channels.slack.dedupe.EventLedger.take_stale`). A row tried
``max_attempts`` times is given up on, and the employee is told.
"""

from __future__ import annotations

import logging
import threading

from bot.channels.slack import texts
from bot.channels.slack.dedupe import FAILED, EventLedger
from bot.channels.slack.work import Work

log = logging.getLogger(__name__)


class Recovery:
    """The periodic round (a daemon thread) and :meth:`run_once` for tests and start-up."""

    def __init__(self, ledger: EventLedger, work: Work, *, interval: float) -> None:
        self.ledger = ledger
        self.work = work
        self.interval = min(interval, self.ledger.lease.total_seconds() / 3)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing: str | None = None

    def run_once(self) -> int:
        """Renew, retry unfinished marks, take over stale rows; the number of jobs taken over."""
        self.ledger.renew(self.work.owned())
        self.work.retry_unfinished()
        taken = self.ledger.take_stale()
        for row in taken:
            if row.attempts > self.ledger.max_attempts:
                log.warning("giving up on Slack delivery %s after %d attempts", row.key, row.attempts - 1)
                self.work.tell(row.job, texts.COULD_NOT_PROCESS)
                self.work.finish(row.key, FAILED)
                continue
            log.info("answering Slack delivery %s left by another replica", row.key)
            self.work.submit(row.key, row.job, live=False)
        return len(taken)

    def _round(self) -> None:
        try:
            self.run_once()
        except Exception as exc:  # the database is away: one line when it starts, one when it ends
            if self._failing != type(exc).__name__:
                self._failing = type(exc).__name__
                log.warning("Slack inbox recovery failed: %s (retrying every %.0f s)", self._failing,
                            self.interval)
            return
        if self._failing is not None:
            self._failing = None
            log.info("Slack inbox recovery works again")

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._round()
            self._stop.wait(self.interval)

    def start(self) -> None:
        """Run a round now (answer what a dead replica left) and then periodically."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="slack-recovery", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the rounds (the current one finishes)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
