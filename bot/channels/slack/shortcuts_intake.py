"""The employee surfaces wired in: assistant panel, message shortcuts, ticket emoji — each job kept before the ack.

Same guarantees as :mod:`.intake` (which runs first and takes DMs, mentions,
commands, the bot's own buttons and the ticket modal): each payload here becomes
a job recorded in the inbox (:class:`~.dedupe.EventLedger`) *before* the ack, a
duplicate (redelivery, replay, another replica) is acked and dropped, the work
runs on the per-user queue (:class:`~.work.Work`) and :mod:`.recovery` answers
what a dead replica left.

- :class:`SurfaceIntake`, a global middleware: shortcuts, their modal, the
  ticket-emoji reaction and the offer's *Yes* / *No*.
- :class:`RecordFirst`, a listener middleware on bolt's ``Assistant``: the panel's
  ``assistant_thread_started`` / ``assistant_thread_context_changed`` events.
  bolt then acks them and runs the listener, which queues the recorded job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from bot.channels.slack import texts
from bot.channels.slack.assistant import AssistantPanel, thread_job
from bot.channels.slack.dedupe import DONE, PENDING, REFUSED, EventLedger
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.intake import acked
from bot.channels.slack.jobs import Job, user_of_job
from bot.channels.slack.reactions import NO, YES, TicketEmoji, offer_click_job, reaction_job
from bot.channels.slack.shortcuts import (
    ASK_CALLBACK,
    MODAL_CALLBACK,
    TICKET_CALLBACK,
    MessageShortcuts,
    form_job,
    shortcut_job,
)
from bot.channels.slack.turns import Turns
from bot.channels.slack.work import Handler, Work
from bot.config.slack import SlackSettings
from bot.storage.session import Database
from bot.web.limits import RateLimiter

log = logging.getLogger(__name__)
JOB = "helpdesk_job"  # where RecordFirst leaves the recorded (key, job) for the listener


class Recorder:
    """Record a job once, before the ack; hand it to the work queue (or say why not)."""

    def __init__(self, ledger: EventLedger, work: Work, fast: Executor, limiter: RateLimiter) -> None:
        self.ledger = ledger
        self.work = work
        self.fast = fast
        self.limiter = limiter

    def record(self, job: Job, *, limited: bool = False) -> bool:
        """True when the job is new and recorded (pending); False: a duplicate, refused or not recordable."""
        wait = self.limiter.hit(user_of_job(job)) if limited else None
        try:
            fresh = self.ledger.record(str(job["key"]), job, state=PENDING if wait is None else REFUSED)
        except Exception as exc:  # the database is away: no durable record, so say so now
            log.warning("Slack inbox unavailable (%s): telling the employee", type(exc).__name__)
            self.fast.submit(self.work.tell, job, texts.COULD_NOT_PROCESS)
            return False
        if fresh and wait is not None:
            self.fast.submit(self.work.tell, job, texts.SLOW_DOWN.format(seconds=max(1, round(wait))))
            return False
        return fresh


class RecordFirst(Middleware):
    """Listener middleware for bolt's Assistant: record the panel event before bolt acks it."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:  # noqa: A002 - bolt's name
        job = thread_job(req.body) if isinstance(req.body, dict) else None
        if job is None or not self.recorder.record(job):
            return acked()  # malformed, a duplicate or not recordable: acked, nothing runs
        req.context[JOB] = job
        next()
        return resp


class SurfaceIntake(Middleware):
    """Global middleware: shortcuts, their modal, ticket-emoji reactions and offer clicks."""

    def __init__(self, recorder: Recorder, work: Work, parse: Callable[[dict[str, Any], str | None], Job | None],
                 open_form: Callable[[Job], bool]) -> None:
        self.recorder = recorder
        self.work = work
        self.parse = parse
        self.open_form = open_form

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:  # noqa: A002 - bolt's name
        body: Any = req.body
        job = self.parse(body, req.context.bot_user_id) if isinstance(body, dict) else None
        if job is None:
            next()
            return resp
        asks = job["kind"] == "shortcut" and job.get("callback") == ASK_CALLBACK
        if not self.recorder.record(job, limited=asks):
            return acked()
        key = str(job["key"])
        if job["kind"] == "shortcut" and job.get("callback") == TICKET_CALLBACK:
            self.recorder.fast.submit(self._open_form, key, job)  # the trigger expires 3 s after the click
        else:
            self.work.submit(key, job)
        return acked()

    def _open_form(self, key: str, job: Job) -> None:
        try:
            opened = self.open_form(job)
        except Exception as exc:
            log.warning("could not open the ticket form: %s", type(exc).__name__)
            opened = False
        if opened:
            self.work.finish(key, DONE)
        else:
            self.work.submit(key, job, live=False)  # tells the employee to use the shortcut again


class EmployeeSurfaces:
    """The assistant panel, the message shortcuts and the ticket emoji, for :class:`~.adapter.SlackAdapter`."""

    def __init__(self, settings: SlackSettings, *, client: WebClient, db: Database, turns: Turns,
                 delivery: Delivery, secrets: tuple[str, ...] = ()) -> None:
        self.settings = settings
        self.assistant = AssistantPanel(client, db, turns, delivery, native_feedback=settings.native_feedback)
        self.shortcuts = MessageShortcuts(client, turns, delivery)
        self.emoji = TicketEmoji(client, db, turns, delivery, emoji=settings.ticket_emoji, secrets=secrets)

    def handlers(self) -> dict[str, Handler]:
        """The Work handlers of these surfaces' jobs."""
        return {**self.assistant.handlers(),
                "shortcut": self.shortcuts.on_shortcut,
                "msg_ticket": lambda job, live: self.shortcuts.on_form(job),
                "reaction": lambda job, live: self.emoji.on_reaction(job),
                "offer": lambda job, live: self.emoji.on_click(job)}

    def on_dm(self, otherwise: Handler) -> Handler:
        """The ``dm`` handler: a panel thread is answered by the panel, any other DM by ``otherwise``."""
        return lambda job, live: self.assistant.on_message(job, lambda other: otherwise(other, live))

    def job_of(self, body: dict[str, Any], bot_user_id: str | None) -> Job | None:
        """The job of a shortcut, its modal, a ticket-emoji reaction or an offer click (else None)."""
        kind = body.get("type")
        if kind == "message_action":
            return shortcut_job(body)
        if kind == "view_submission":
            return form_job(body)
        if kind == "block_actions":
            return offer_click_job(body)
        if kind == "event_callback":
            return reaction_job(body, self.settings.ticket_emoji, bot_user_id)
        return None

    def register(self, app: App, *, ledger: EventLedger, work: Work, fast: Executor, limiter: RateLimiter) -> None:
        """The intake middleware, bolt's Assistant, and ack-only listeners for what is left."""
        recorder = Recorder(ledger, work, fast, limiter)
        app.use(SurfaceIntake(recorder, work, self.job_of, self.shortcuts.open_form))

        def hand_over(context: BoltContext) -> None:
            job = context.get(JOB)
            if isinstance(job, dict):
                work.submit(str(job["key"]), job)

        self.assistant.attach(app, RecordFirst(recorder), hand_over)
        app.event("reaction_added")(_ack)  # other emoji, bot authors: nothing to do
        app.shortcut(ASK_CALLBACK)(_ack)
        app.shortcut(TICKET_CALLBACK)(_ack)
        app.view(MODAL_CALLBACK)(_ack)
        app.action(YES)(_ack)
        app.action(NO)(_ack)


def _ack(ack: Ack) -> None:
    ack()
