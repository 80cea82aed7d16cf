"""Before the ack: turn a verified payload into a job, claim it once, keep it durably, then hand it on.

A bolt global middleware (it runs after bolt's signature check and before any
listener): the inbox row is written *before* the HTTP response (or the Socket
Mode ack) goes out, so an acknowledged delivery is never only in memory. A
duplicate (redelivery, replay, another replica) is acked and dropped. When the
database is away the employee is told, never left in silence. The per-user turn
rate is enforced here too.

The regular jobs (DMs, mentions, ``/helpdesk``, the bot's buttons, the ticket
modal, App Home) are :class:`CoreJobs`; other surfaces (the triage desk, the
shortcuts and the ticket emoji) add a :class:`JobSource` to :attr:`Intake.sources`
and get the same guarantees without repeating them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, Protocol

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


IGNORE: Job = {"kind": "ignore"}  # a source's payload with nothing to do: acked, not recorded
Opener = Callable[[Job], bool]  # opens a modal right after the click; False: the job runs on the queue instead


class JobSource(Protocol):
    """A surface's payloads: which are its jobs, which count as the employee's turns, which open a modal."""

    def job_of(self, body: dict[str, Any], bot_user_id: str | None) -> Job | None:
        """The job of ``body``, :data:`IGNORE` (ack only), or None (not this source's)."""
        ...

    def limited(self, job: Job) -> bool:
        """Whether ``job`` counts against its user's turn rate."""
        ...

    def opener(self, job: Job) -> Opener | None:
        """What opens this job's modal at once (a trigger_id expires 3 s after the click), if any."""
        ...


class CoreJobs:
    """The regular jobs: DMs, mentions, the slash command, the bot's buttons, the ticket modal, App Home."""

    def __init__(self, interactions: Interactions, *, command: str) -> None:
        self.interactions = interactions
        self.command = command

    def job_of(self, body: dict[str, Any], bot_user_id: str | None) -> Job | None:
        """See :func:`~.jobs.job_of`."""
        return job_of(body, bot_user_id=bot_user_id, command=self.command)

    def limited(self, job: Job) -> bool:
        """Every turn counts, except opening App Home."""
        return job["kind"] != "home"

    def opener(self, job: Job) -> Opener | None:
        """The ticket form of a button that opens one."""
        if job["kind"] == "action" and job.get("action_id") in MODAL_ACTIONS:
            return lambda job: self.interactions.open_form(job, action_of(job))
        return None


class Intake(Middleware):
    """Claims and records each job before the ack, then hands it to :class:`Work`.

    :attr:`sources` are asked in order; the first that knows a payload owns it.
    """

    def __init__(self, ledger: EventLedger, work: Work, interactions: Interactions, fast: Executor, *,
                 command: str, turns_per_minute: int) -> None:
        self.ledger = ledger
        self.work = work
        self.fast = fast  # opens modals at once: a trigger_id expires 3 s after the click
        self.sources: list[JobSource] = [CoreJobs(interactions, command=command)]
        self.limiter = RateLimiter(turns_per_minute)
        self._told: dict[str, float] = {}
        self._lock = threading.Lock()

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:  # noqa: A002 - bolt's name
        body: Any = req.body
        taken = self._take(body, req.context.bot_user_id) if isinstance(body, dict) else None
        if taken is None:
            return next()
        source, job = taken
        if job is IGNORE or not self.record(job, limited=source.limited(job)):
            return acked()
        key = str(job["key"])
        opener = source.opener(job)
        if opener is not None:
            self.fast.submit(self._open_now, key, job, opener)
        else:
            self.work.submit(key, job)
        return acked()

    def _take(self, body: dict[str, Any], bot_user_id: str | None) -> tuple[JobSource, Job] | None:
        for source in self.sources:
            try:
                job = source.job_of(body, bot_user_id)
            except Exception as exc:  # e.g. a lookup while the database is away: not known as this source's
                log.warning("Slack payload lookup failed (%s)", type(exc).__name__)
                continue
            if job is not None:
                return source, job
        return None

    def record(self, job: Job, *, limited: bool = False) -> bool:
        """Keep ``job`` before the ack: True when it is new and pending (False: duplicate, refused, not kept).

        A job over its user's turn rate is kept as refused and the user told once per window;
        when the database is away the employee is told at once.
        """
        wait = self.limiter.hit(user_of_job(job)) if limited else None
        try:
            fresh = self.ledger.record(str(job["key"]), job, state=PENDING if wait is None else REFUSED)
        except Exception as exc:  # the database is away: no durable record, so say so now
            log.warning("Slack inbox unavailable (%s): telling the employee", type(exc).__name__)
            if job["kind"] == "home":
                self.work.submit(None, job)  # publishing Home needs no record
            else:
                self.fast.submit(self.work.tell, job, texts.COULD_NOT_PROCESS)
            return False
        if fresh and wait is not None:
            self._slow_down(job, wait)
            return False
        return fresh

    def _open_now(self, key: str, job: Job, opener: Opener) -> None:
        try:
            opened = opener(job)
        except Exception as exc:
            log.warning("could not open the form: %s", type(exc).__name__)
            opened = False
        if opened:
            self.work.finish(key, DONE)
        else:
            self.work.submit(key, job, live=False)  # the job's handler says what to do instead

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
