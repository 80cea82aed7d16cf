"""The employee surfaces wired in: assistant panel, message shortcuts, ticket emoji — each job kept before the ack.

The same guarantees as the regular jobs, through :mod:`.intake`: each payload here
becomes a job recorded in the inbox (:class:`~.dedupe.EventLedger`) *before* the
ack, a duplicate (redelivery, replay, another replica) is acked and dropped, the
work runs on the per-user queue (:class:`~.work.Work`) and :mod:`.recovery`
answers what a dead replica left.

- :class:`EmployeeSurfaces` is a :class:`~.intake.JobSource` (asked after the
  regular jobs): shortcuts, their modal, the ticket-emoji reaction and the
  offer's *Yes* / *No*.
- :class:`RecordFirst`, a listener middleware on bolt's ``Assistant``, records the
  panel's ``assistant_thread_started`` / ``assistant_thread_context_changed``
  events with :meth:`.Intake.record`; bolt then acks them and runs the listener,
  which queues the recorded job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from bot.channels.slack.assistant import AssistantPanel, thread_job
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.intake import Intake, Opener, acked
from bot.channels.slack.jobs import Job
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

log = logging.getLogger(__name__)
JOB = "helpdesk_job"  # where RecordFirst leaves the recorded (key, job) for the listener


class RecordFirst(Middleware):
    """Listener middleware for bolt's Assistant: record the panel event before bolt acks it."""

    def __init__(self, record: Callable[[Job], bool]) -> None:
        self.record = record

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:  # noqa: A002 - bolt's name
        job = thread_job(req.body) if isinstance(req.body, dict) else None
        if job is None or not self.record(job):
            return acked()  # malformed, a duplicate or not recordable: acked, nothing runs
        req.context[JOB] = job
        next()
        return resp


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

    @staticmethod
    def limited(job: Job) -> bool:
        """Asking IT about a message is a turn; the ticket shortcut, its form and the emoji are not."""
        return job["kind"] == "shortcut" and job.get("callback") == ASK_CALLBACK

    def opener(self, job: Job) -> Opener | None:
        """The ticket shortcut's prefilled form (the trigger expires 3 s after the click)."""
        if job["kind"] == "shortcut" and job.get("callback") == TICKET_CALLBACK:
            return self.shortcuts.open_form  # not opened: the job tells the employee to use the shortcut again
        return None

    def register(self, app: App, *, intake: Intake, work: Work) -> None:
        """This surface's jobs through ``intake``, bolt's Assistant, and ack-only listeners for what is left."""
        intake.sources.append(self)

        def hand_over(context: BoltContext) -> None:
            job = context.get(JOB)
            if isinstance(job, dict):
                work.submit(str(job["key"]), job)

        self.assistant.attach(app, RecordFirst(intake.record), hand_over)
        app.event("reaction_added")(_ack)  # other emoji, bot authors: nothing to do
        app.shortcut(ASK_CALLBACK)(_ack)
        app.shortcut(TICKET_CALLBACK)(_ack)
        app.view(MODAL_CALLBACK)(_ack)
        app.action(YES)(_ack)
        app.action(NO)(_ack)


def _ack(ack: Ack) -> None:
    ack()
