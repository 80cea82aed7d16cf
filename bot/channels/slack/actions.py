"""Interactivity jobs: button clicks, the ticket modal (open and submit) and "Share in channel".

A click that opens a form must call ``views.open`` within 3 s of the click (the
``trigger_id`` expires), so :meth:`Interactions.open_form` runs right after the
ack; a click taken over after a crash (no trigger any more) asks in chat instead.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.channels.slack import privacy, texts
from bot.channels.slack.blocks import FORM_ACTION, MAX_BLOCKS_MESSAGE, SHARE_ACTION, without_feedback
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.jobs import Job
from bot.channels.slack.modals import form_modal
from bot.channels.slack.payloads import is_public
from bot.channels.slack.sharing import SharedReplies
from bot.channels.slack.turns import Turns
from bot.messages import Action, Outcome, Reply

log = logging.getLogger(__name__)

MODAL_ACTIONS = {"ticket.open", FORM_ACTION}


def action_of(job: Job) -> Action:
    """The engine Action a click job stands for."""
    value = job.get("value")
    return Action(str(job.get("action_id")), value if isinstance(value, dict) else {})


class Interactions:
    """Button and modal-submission jobs."""

    def __init__(self, client: WebClient, turns: Turns, delivery: Delivery, shared: SharedReplies, *,
                 command: str) -> None:
        self.client = client
        self.turns = turns
        self.delivery = delivery
        self.shared = shared
        self.command = command

    # --- buttons ----------------------------------------------------------
    def on_action(self, job: Job, *, live: bool = True) -> None:
        """A click: open the form (live only), share, or run the engine's action."""
        action = action_of(job)
        if action.action_id in MODAL_ACTIONS:
            if not (live and self.open_form(job, action)):
                self.run_action(job, action, modal=False)  # no modal possible: the flow asks in chat
            return
        if action.action_id == SHARE_ACTION:
            self.share(job, str(action.value.get("turn") or ""))
            return
        self.run_action(job, action, modal=live)

    def open_form(self, job: Job, action: Action) -> bool:
        """``views.open`` the ticket modal for a form button; False when Slack would not open it."""
        if not job.get("trigger_id"):
            return False
        value: dict[str, Any] = action.value
        if action.action_id != FORM_ACTION:  # "Open a ticket": prefill only the summary
            value = {"fields": {"summary": str(action.value.get("summary") or "")}}
        try:
            self.client.views_open(trigger_id=job["trigger_id"],
                                   view=form_modal(value, channel=job.get("channel"), thread_ts=job.get("thread_ts")))
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            return False
        return True

    def run_action(self, job: Job, action: Action, *, modal: bool = True) -> None:
        """Run ``action`` as a turn and answer where the button was (or privately, from a view)."""
        user_id, channel, thread_ts = str(job["user"]), job.get("channel"), job.get("thread_ts")
        ephemeral, from_view = bool(job.get("ephemeral")), bool(job.get("in_view"))
        reply = self.turns.run(user_id=user_id, text="", channel_id=channel, thread_ts=thread_ts,
                               private=privacy.private_conversation(channel, ephemeral=ephemeral, in_view=from_view),
                               action=action)
        if modal and reply.form is not None and job.get("trigger_id"):
            form_action = Action(FORM_ACTION, {"fields": reply.form.fields, "submit": reply.form.submit_action,
                                               "title": reply.form.title})
            if self.open_form(job, form_action):
                return
        if reply.outcome is Outcome.FEEDBACK and not is_public(channel) and not ephemeral:
            self.retire_feedback_buttons(job, helpful=bool(action.value.get("helpful")))
        if from_view:  # App Home or a modal: no conversation; a credential never enters the DM history
            self.delivery.privately(reply, user_id)
            return
        self.delivery.reply_in_place(reply, user_id=user_id, channel=str(channel), thread_ts=thread_ts,
                                     public=is_public(channel), response_url=job.get("response_url"),
                                     force_ephemeral=privacy.only_for_the_asker(reply, channel,
                                                                                asked_in_ephemeral=ephemeral))

    def retire_feedback_buttons(self, job: Job, *, helpful: bool) -> None:
        """In a DM, replace the rated answer's Helpful/Not helpful buttons by the rating (no double votes)."""
        channel, ts, old = job.get("channel"), job.get("message_ts"), job.get("message_blocks")
        if not ts or not channel or not old:
            return
        blocks = without_feedback(old)  # the Helpful/Not helpful buttons or the native 👍/👎
        verdict = texts.RATED_HELPFUL if helpful else texts.RATED_NOT_HELPFUL
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": verdict}]})
        try:
            self.client.chat_update(channel=channel, ts=ts, text=job.get("message_text") or verdict,
                                    blocks=blocks[:MAX_BLOCKS_MESSAGE])
        except SlackApiError as exc:  # cosmetic: the rating itself is stored
            log.info("could not update the rated message: %s", exc.response.get("error"))

    def share(self, job: Job, turn_id: str) -> None:
        """"Share in channel": post the clicker's own stored answer for everyone, once."""
        user_id, channel = str(job["user"]), job.get("channel")
        reply = self.shared.take(turn_id, user_id=user_id) if turn_id else None
        if reply is None or not channel:
            self.delivery.reply_in_place(Reply(text=texts.SHARE_GONE, private=True), user_id=user_id,
                                         channel=str(channel), thread_ts=None, public=True, force_ephemeral=True,
                                         response_url=job.get("response_url"))
            return
        try:
            self.delivery.post(reply, channel=channel,
                               note=texts.SHARED_BY.format(user_id=user_id, command=self.command))
        except SlackApiError as exc:
            if job.get("response_url"):
                self.delivery.respond(job["response_url"], reply, in_channel=True)
            else:
                self.delivery.park(reply, user_id, exc)

    # --- the ticket modal ------------------------------------------------
    def on_ticket_submitted(self, job: Job) -> None:
        """Modal submitted: run the engine's submit action and confirm (with the key) privately."""
        user_id = str(job["user"])
        fields = job.get("fields")
        action = Action(str(job["action_id"]), fields if isinstance(fields, dict) else {})
        reply = self.turns.run(user_id=user_id, text="", channel_id=None, thread_ts=None, private=True,
                               action=action)
        self.delivery.privately(reply, user_id)
