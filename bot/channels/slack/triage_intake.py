"""Before the ack, for the triage surface: card buttons, the Reply modal, card threads and DM relay threads.

A bolt middleware placed before :class:`~.intake.Intake`. It recognises the
payloads that belong to a ticket's Slack surface, records them in the same
inbox (:class:`~.dedupe.EventLedger`: once across replicas, durable before the
ack) and hands them to :class:`~.work.Work` as ``triage_*`` / ``relay_in`` jobs;
everything else goes on to the regular intake untouched.

- ``block_actions`` on a card button (Claim, Reply, Resolve); "Open in Jira" is a
  link: acked, nothing to do;
- ``view_submission`` of the Reply modal;
- a person's message in the thread of a card (``thread_ts`` = the card's ts);
- the requester's message in the ticket's thread in their DM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from sqlalchemy import select

from bot.channels.slack import texts
from bot.channels.slack.dedupe import DONE, REFUSED, EventLedger
from bot.channels.slack.intake import acked
from bot.channels.slack.jobs import Job, action_job, digest, obj, safe_text, text_of
from bot.channels.slack.payloads import clean_text, is_answerable
from bot.channels.slack.triage_card import CARD_ACTIONS, OPEN, REPLY, REPLY_CALLBACK
from bot.channels.slack.triage_models import SlackTicketThread
from bot.channels.slack.work import Work
from bot.storage.session import Database
from bot.web.limits import RateLimiter

log = logging.getLogger(__name__)
IGNORE: Job = {"kind": "ignore"}


def reply_submission_job(body: dict[str, Any]) -> Job | None:
    """The job of a submitted Reply modal (its metadata is the client's: re-checked by the handler)."""
    view = obj(body.get("view"))
    user = text_of(obj(body.get("user")).get("id"))
    if body.get("type") != "view_submission" or view.get("callback_id") != REPLY_CALLBACK or user is None:
        return None
    value = obj(obj(obj(obj(view.get("state")).get("values")).get("reply")).get("value")).get("value")
    meta = text_of(view.get("private_metadata")) or ""
    key, _, channel = meta.partition("|")
    return {"kind": "triage_reply", "key": "vs:" + digest(user, view.get("id"), view.get("hash"), view.get("state")),
            "user": user, "ticket_key": key[:64], "channel": channel[:32] or None,
            "source": f"view:{text_of(view.get('id')) or digest(view.get('state'))}"[:128],
            "text": safe_text(value.strip()) if isinstance(value, str) else ""}


class TriageIntake(Middleware):
    """Takes the triage surface's payloads out of the regular intake, recorded the same way."""

    def __init__(self, ledger: EventLedger, work: Work, db: Database, fast: Executor,
                 open_reply: Callable[[Job], None], limiter: RateLimiter | None = None) -> None:
        self.limiter = limiter  # the employees' turn rate (their DM-thread answers count as turns)
        self.ledger = ledger
        self.work = work
        self.db = db
        self.fast = fast  # the Reply modal must open within 3 s of the click
        self.open_reply = open_reply

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:  # noqa: A002 - bolt's name
        body: Any = req.body
        try:
            job = self.job_of(body, req.context.bot_user_id) if isinstance(body, dict) else None
        except Exception as exc:  # the database is away: let the regular intake answer (and say so)
            log.warning("triage lookup failed (%s)", type(exc).__name__)
            job = None
        if job is None:
            return next()
        if job is IGNORE:
            return acked()
        key = str(job["key"])
        wait = self.limiter.hit(str(job["user"])) if self.limiter is not None and job["kind"] == "relay_in" else None
        try:
            fresh = self.ledger.record(key, job, **({"state": REFUSED} if wait is not None else {}))
        except Exception as exc:
            log.warning("Slack inbox unavailable for a triage payload (%s)", type(exc).__name__)
            return acked()
        if not fresh:
            return acked()
        if wait is not None:
            self.fast.submit(self.work.tell, job, texts.SLOW_DOWN.format(seconds=max(1, round(wait))))
            return acked()
        if job["kind"] == "triage_action" and job.get("action_id") == REPLY and job.get("trigger_id"):
            self.fast.submit(self._reply_now, key, job)
        else:
            self.work.submit(key, job)
        return acked()

    def _reply_now(self, key: str, job: Job) -> None:
        try:
            self.open_reply(job)
        except Exception as exc:
            log.warning("could not open the Reply modal: %s", type(exc).__name__)
        self.work.finish(key, DONE)

    # --- which payloads are the triage surface's ---------------------------------------
    def job_of(self, body: dict[str, Any], bot_user_id: str | None) -> Job | None:
        """The triage job for ``body``, :data:`IGNORE` (ack only), or None (not ours)."""
        kind = body.get("type")
        if kind == "block_actions":
            job = action_job(body)
            if job is None or not str(job.get("action_id")).startswith("triage."):
                return None
            if job["action_id"] == OPEN:
                return IGNORE
            return {**job, "kind": "triage_action"} if job["action_id"] in CARD_ACTIONS else IGNORE
        if kind == "view_submission":
            return reply_submission_job(body)
        if kind == "event_callback":
            return self._thread_message(body, bot_user_id)
        return None

    def _thread_message(self, body: dict[str, Any], bot_user_id: str | None) -> Job | None:
        event = obj(body.get("event"))
        event_id = text_of(body.get("event_id"))
        channel, ts = text_of(event.get("channel")), text_of(event.get("ts"))
        thread_ts = text_of(event.get("thread_ts"))
        if (event.get("type") != "message" or event_id is None or channel is None or thread_ts is None
                or ts == thread_ts or not isinstance(event.get("user"), str)
                or not is_answerable(event, bot_user_id)):
            return None
        dm = event.get("channel_type") == "im"
        column, ts_column = ((SlackTicketThread.dm_channel, SlackTicketThread.dm_ts) if dm
                             else (SlackTicketThread.card_channel, SlackTicketThread.card_ts))
        with self.db.session() as session:
            ticket_id = session.scalar(select(SlackTicketThread.ticket_id).where(
                column == channel, ts_column == thread_ts).limit(1))
        if ticket_id is None:
            return None
        text = safe_text(clean_text(safe_text(text_of(event.get("text")) or ""), bot_user_id))
        return {"kind": "relay_in" if dm else "triage_thread", "key": event_id, "user": event["user"],
                "channel": channel, "thread_ts": thread_ts, "ts": ts, "text": text, "ticket_id": ticket_id,
                "event_id": event_id}
