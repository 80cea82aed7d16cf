"""The assistant panel (Slack "Agents & AI Apps"): greeting, suggested prompts, status, title, native feedback.

bolt's :class:`slack_bolt.Assistant` middleware recognises the panel's events;
its store is our database (:class:`~.assistant_store.ThreadStore`), never
message metadata. The work itself runs from recorded jobs like every other
Slack delivery (recorded before the ack, once across replicas, recovered
after a crash), so the handlers here take a job, not a bolt request:

- ``assistant_thread_started`` → a greeting and four suggested prompts;
- ``assistant_thread_context_changed`` → the thread's context is stored;
- a message in a panel thread (a DM with ``thread_ts``, recorded by the inbox as
  a ``dm`` job) → a normal engine turn while the thread shows a status, the
  thread titled from its first question, and the answer carrying Slack's native
  👍/👎 (the same engine rating action as the Helpful / Not helpful buttons).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App, Assistant
from slack_bolt.context.set_status import SetStatus
from slack_bolt.context.set_suggested_prompts import SetSuggestedPrompts
from slack_bolt.context.set_title import SetTitle
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.channels.slack.assistant_store import ThreadStore, clean_context
from bot.channels.slack.blocks import truncate
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.jobs import Job, obj, text_of
from bot.channels.slack.turns import Turns
from bot.messages import Reply
from bot.storage.session import Database

log = logging.getLogger(__name__)

GREETING = ("Hi! I'm the IT helpdesk. Ask me anything IT: I answer from the knowledge base, "
            "can unlock your account or reset your password, and open tickets for IT staff.")
PROMPTS_TITLE = "Try asking"
# (what the prompt shows, what it sends): Slack shows at most four
PROMPTS = (("I'm locked out", "I'm locked out of my account"),
           ("My tickets", "Show my tickets"),
           ("VPN isn't working", "The VPN isn't working"),
           ("Request software", "I'd like to request software"))
SEARCHING = "Searching the knowledge base…"
CHECKING_ACCOUNT = "Checking your account…"
CHECKING_TICKETS = "Looking up your tickets…"
TITLE_MAX = 80
_ACCOUNT = re.compile(r"\b(?:password|passcode|locked?\s*out|lock(?:ed)?|unlock|account|sign[\s-]?in|log[\s-]?in|"
                      r"mfa|2fa)\b", re.I)
_TICKETS = re.compile(r"\b(?:tickets?|[A-Z][A-Z0-9]{1,9}-\d+)\b", re.I)


def status_for(text: str) -> str:
    """What the thread shows while the turn runs: the route the question will most likely take."""
    if _ACCOUNT.search(text):
        return CHECKING_ACCOUNT
    if _TICKETS.search(text):
        return CHECKING_TICKETS
    return SEARCHING


def title_of(text: str) -> str:
    """A thread title from its first question (one line, at most 80 characters)."""
    return truncate(" ".join(text.split()), TITLE_MAX) or PROMPTS_TITLE


# --- jobs -----------------------------------------------------------------------------
def thread_job(body: dict[str, Any]) -> Job | None:
    """The job of ``assistant_thread_started`` / ``assistant_thread_context_changed`` (else None)."""
    event = obj(body.get("event"))
    kind = {"assistant_thread_started": "as_start", "assistant_thread_context_changed": "as_context"}.get(
        str(event.get("type")))
    thread = obj(event.get("assistant_thread"))
    event_id, channel, thread_ts = text_of(body.get("event_id")), text_of(thread.get("channel_id")), \
        text_of(thread.get("thread_ts"))
    if kind is None or event_id is None or channel is None or thread_ts is None:
        return None
    return {"kind": kind, "key": event_id, "user": text_of(thread.get("user_id")), "channel": channel,
            "thread_ts": thread_ts, "context": clean_context(thread.get("context"))}


class AssistantPanel:
    """bolt's Assistant over our thread store, and the jobs of the panel."""

    def __init__(self, client: WebClient, db: Database, turns: Turns, delivery: Delivery, *,
                 native_feedback: bool) -> None:
        self.client = client
        self.turns = turns
        self.delivery = delivery
        self.store = ThreadStore(db)
        self.native_feedback = native_feedback  # answers carry Slack's feedback buttons

    def attach(self, app: App, record_first: Middleware, hand_over: Callable[..., None]) -> Assistant:
        """Register bolt's Assistant: ``record_first`` keeps each event before the ack, ``hand_over`` queues it."""
        assistant = Assistant(thread_context_store=self.store, logger=log)
        # bolt annotates ``middleware`` as one item, but its build_listener inserts into it: a list (one each)
        started: Any = [record_first]
        changed: Any = [record_first]
        assistant.thread_started(hand_over, middleware=started)
        assistant.thread_context_changed(hand_over, middleware=changed)
        app.assistant(assistant)
        return assistant

    def handlers(self) -> dict[str, Callable[[Job, bool], None]]:
        """The Work handlers of the panel's own jobs."""
        return {"as_start": lambda job, live: self.on_started(job),
                "as_context": lambda job, live: self.on_context(job)}

    # --- the jobs ------------------------------------------------------------------------
    def on_started(self, job: Job) -> None:
        """A new panel thread: remember it, greet, and offer the suggested prompts."""
        channel, thread_ts, user = str(job["channel"]), str(job["thread_ts"]), job.get("user")
        self.store.started(channel_id=channel, thread_ts=thread_ts, user_id=user, context=job.get("context"))
        self.delivery.post(Reply(text=GREETING, private=True), channel=channel, thread_ts=thread_ts)
        prompts = [{"title": title, "message": message} for title, message in PROMPTS]
        self._quietly(lambda: SetSuggestedPrompts(self.client, channel, thread_ts)(prompts, title=PROMPTS_TITLE))

    def on_context(self, job: Job) -> None:
        """The employee moved to another channel with the panel open: keep the thread's new context."""
        context = job.get("context")
        if isinstance(context, dict):
            self.store.save(channel_id=str(job["channel"]), thread_ts=str(job["thread_ts"]), context=context)

    def on_message(self, job: Job, otherwise: Callable[[Job], None]) -> None:
        """A DM: in a panel thread, a turn with status, title and native feedback; elsewhere ``otherwise``."""
        channel, thread_ts = str(job["channel"]), job.get("thread_ts")
        if not thread_ts or not self.store.touch(channel, str(thread_ts)):  # kept while in use
            otherwise(job)
            return
        thread_ts = str(thread_ts)
        user, text = str(job["user"]), str(job.get("text") or "")
        status = SetStatus(self.client, channel, thread_ts)
        self._quietly(lambda: status(status_for(text)))
        if text.strip() and self.store.claim_title(channel, thread_ts):
            self._quietly(lambda: SetTitle(self.client, channel, thread_ts)(title_of(text)))
        try:
            reply = self.turns.run(user_id=user, text=text, channel_id=channel, thread_ts=thread_ts, private=True,
                                   event_id=job.get("event_id"))
            self.delivery.reply_in_place(reply, user_id=user, channel=channel, thread_ts=thread_ts,
                                         public=False, native_feedback=self.native_feedback)
        finally:
            self._quietly(lambda: status(""))  # cleared once the answer is there (or the turn failed)

    @staticmethod
    def _quietly(call: Callable[[], Any]) -> None:
        """Status, title and prompts are cosmetic: Slack refusing them never fails the turn."""
        try:
            call()
        except SlackApiError as exc:
            log.info("assistant thread update refused: %s", exc.response.get("error"))
        except OSError as exc:
            log.info("assistant thread update failed: %s", type(exc).__name__)
