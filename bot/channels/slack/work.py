"""Running recorded jobs: one user's in arrival order, each inbox row finished once answered.

The live path (right after the ack) and the take-over of a dead replica's rows
(:mod:`.recovery`) both run here. A job that fails is not silence: the employee
is told to try again, and the row is marked ``failed``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bot.channels.slack import texts
from bot.channels.slack.dedupe import DONE, FAILED, EventLedger
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.executor import PerKeyQueue
from bot.channels.slack.jobs import Job, user_of_job

log = logging.getLogger(__name__)

Handler = Callable[[Job, bool], None]  # (job, live)


class Work:
    """Hands jobs to the per-user queue; knows which rows it owns (for lease renewal)."""

    def __init__(self, queue: PerKeyQueue, ledger: EventLedger, delivery: Delivery,
                 handlers: dict[str, Handler]) -> None:
        self.queue = queue
        self.ledger = ledger
        self.delivery = delivery
        self.handlers = handlers
        self._owned: set[str] = set()
        self._unfinished: dict[str, str] = {}  # answered, but the database did not take the mark yet
        self._lock = threading.Lock()

    def submit(self, key: str | None, job: Job, *, live: bool = True) -> None:
        """Run ``job`` after the user's earlier ones; ``key`` is its inbox row (None: not recorded)."""
        if key is not None:
            with self._lock:
                self._owned.add(key)
        self.queue.submit(user_of_job(job), self.run, key=key, job=job, live=live)

    def run(self, key: str | None, job: Job, live: bool = True) -> None:
        """Answer one job and finish its row; on failure tell the employee."""
        state = DONE
        try:
            handler = self.handlers.get(str(job.get("kind")))
            if handler is not None:
                handler(job, live)
        except Exception as exc:
            state = FAILED
            log.warning("Slack %s job failed: %s", job.get("kind"), type(exc).__name__, exc_info=True)
            self.tell(job, texts.COULD_NOT_PROCESS)
        if key is not None:
            self.finish(key, state)

    def tell(self, job: Job, text: str) -> None:
        """A short word to the job's employee, where they asked (home: the DM)."""
        if job.get("kind") == "home" or not job.get("user"):
            return
        channel = job.get("channel")
        self.delivery.notice(text, user_id=str(job["user"]), channel=channel if isinstance(channel, str) else None,
                             thread_ts=job.get("thread_ts"))

    def finish(self, key: str, state: str) -> None:
        """Mark the row; if the database is away, remember and retry from :meth:`retry_unfinished`."""
        try:
            self.ledger.finish(key, state)
        except Exception as exc:
            log.warning("could not mark Slack delivery finished (%s); retrying later", type(exc).__name__)
            with self._lock:
                self._unfinished[key] = state
            return
        with self._lock:
            self._owned.discard(key)

    def retry_unfinished(self) -> None:
        """Mark the rows answered while the database was away."""
        with self._lock:
            waiting = dict(self._unfinished)
        for key, state in waiting.items():
            self.ledger.finish(key, state)
            with self._lock:
                self._unfinished.pop(key, None)
                self._owned.discard(key)

    def owned(self) -> list[str]:
        """The rows this replica is working on (queued or running)."""
        with self._lock:
            return list(self._owned)
