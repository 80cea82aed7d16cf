"""Before the ack, for the triage surface: card buttons, the Reply modal, card threads and DM relay threads.

A :class:`~.intake.JobSource` asked before the regular jobs. It recognises the
payloads that belong to a ticket's Slack surface; :class:`~.intake.Intake`
records them in the same inbox (:class:`~.dedupe.EventLedger`: once across
replicas, durable before the ack) and hands them to :class:`~.work.Work` as
``triage_*`` / ``relay_in`` jobs; everything else goes on to the regular jobs.

- ``block_actions`` on a card button (Claim, Reply, Resolve); "Open in Jira" is a
  link: acked, nothing to do;
- ``view_submission`` of the Reply modal;
- a person's message in the thread of a card (``thread_ts`` = the card's ts);
- the requester's message in the ticket's thread in their DM.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bot.channels.slack.intake import IGNORE, Opener
from bot.channels.slack.jobs import Job, action_job, digest, obj, safe_text, text_of
from bot.channels.slack.payloads import clean_text, is_answerable
from bot.channels.slack.triage_card import CARD_ACTIONS, OPEN, REPLY, REPLY_CALLBACK
from bot.channels.slack.triage_models import SlackTicketThread
from bot.storage.session import Database


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


class TriageJobs:
    """The triage surface's payloads, for :class:`~.intake.Intake` (asked before the regular jobs)."""

    def __init__(self, db: Database, open_reply: Callable[[Job], None]) -> None:
        self.db = db
        self.open_reply = open_reply

    @staticmethod
    def limited(job: Job) -> bool:
        """The employee's DM-thread answers count as their turns; IT's clicks and replies do not."""
        return job["kind"] == "relay_in"

    def opener(self, job: Job) -> Opener | None:
        """The Reply modal must open within 3 s of the click."""
        if job["kind"] == "triage_action" and job.get("action_id") == REPLY and job.get("trigger_id"):
            return self._reply_now
        return None

    def _reply_now(self, job: Job) -> bool:
        self.open_reply(job)  # opened, or the clicker was refused politely: done either way
        return True

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
