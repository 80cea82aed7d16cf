"""Before the ack: turn a verified payload into a job, claim it once, keep it durably, then hand it on.

A bolt global middleware (it runs after bolt's signature check and before any
listener): the inbox row is written *before* the HTTP response (or the Socket
Mode ack) goes out, so an acknowledged delivery is never only in memory. A
duplicate (redelivery, replay, another replica) is acked and dropped. When the
database is away the employee is told, never left in silence. The per-user turn
rate is enforced here too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.channels.slack import texts
from bot.channels.slack.actions import MODAL_ACTIONS, Interactions, action_of
from bot.channels.slack.dedupe import DONE, PENDING, REFUSED, EventLedger
from bot.channels.slack.jobs import Job, job_of, user_of_job
from bot.channels.slack.work import Work
from bot.web.limits import RateLimiter

log = logging.getLogger(__name__)


def acked() -> BoltResponse:
    """The empty 200 Slack expects (it also closes a submitted modal)."""
    return BoltResponse(status=200, body="")


class Intake(Middleware):
    """Claims and records each job before the ack, then hands it to :class:`Work`."""

    def __init__(self, ledger: EventLedger, work: Work, interactions: Interactions, fast: Executor, *,
                 command: str, turns_per_minute: int) -> None:
        self.ledger = ledger
        self.work = work
        self.interactions = interactions
        self.fast = fast  # opens modals at once: a trigger_id expires 3 s after the click
        self.command = command
        self.limiter = RateLimiter(turns_per_minute)
        self._told: dict[str, float] = {}
        self._lock = threading.Lock()

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:  # noqa: A002 - bolt's name
        body: Any = req.body
        job = job_of(body, bot_user_id=req.context.bot_user_id, command=self.command) \
            if isinstance(body, dict) else None
        if job is None:
            return next()
        key = str(job["key"])
        wait = None if job["kind"] == "home" else self.limiter.hit(user_of_job(job))
        try:
            fresh = self.ledger.record(key, job, state=PENDING if wait is None else REFUSED)
        except Exception as exc:  # the database is away: no durable record, so say so now
            log.warning("Slack inbox unavailable (%s): telling the employee", type(exc).__name__)
            if job["kind"] == "home":
                self.work.submit(None, job)  # publishing Home needs no record
            else:
                self.fast.submit(self.work.tell, job, texts.COULD_NOT_PROCESS)
            return acked()
        if not fresh:
            return acked()
        if wait is not None:
            self._slow_down(job, wait)
        elif job["kind"] == "action" and job.get("action_id") in MODAL_ACTIONS:
            self.fast.submit(self._open_form, key, job)
        else:
            self.work.submit(key, job)
        return acked()

    def _open_form(self, key: str, job: Job) -> None:
        try:
            opened = self.interactions.open_form(job, action_of(job))
        except Exception as exc:
            log.warning("could not open the form: %s", type(exc).__name__)
            opened = False
        if opened:
            self.work.finish(key, DONE)
        else:
            self.work.submit(key, job, live=False)  # the flow asks in chat

    def _slow_down(self, job: Job, wait: float) -> None:
        """Tell a flooding employee once per window; the refused turns are not run."""
        user, now = user_of_job(job), time.monotonic()
        with self._lock:
            if now - self._told.get(user, -1e9) < self.limiter.window:
                return
            self._told[user] = now
            if len(self._told) > 10_000:
                self._told = {u: t for u, t in self._told.items() if now - t < self.limiter.window}
        log.info("Slack turn rate limit hit")
        self.fast.submit(self.work.tell, job, texts.SLOW_DOWN.format(seconds=max(1, round(wait))))

