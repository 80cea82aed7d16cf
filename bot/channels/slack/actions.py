"""Interactivity: button clicks, the ticket modal (open and submit) and "Share in channel".

A click that opens a form must call ``views.open`` within 3 s of the click (the
``trigger_id`` expires), so :meth:`Interactions.ack_action` does that right after the
ack; everything else runs after the ack in :meth:`Interactions.on_action`.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.channels.slack import privacy, texts
from bot.channels.slack.blocks import FORM_ACTION, MAX_BLOCKS_MESSAGE, SHARE_ACTION, decode_value
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.modals import form_modal, read_submission
from bot.channels.slack.payloads import Payload, clicker_of, first_action, in_ephemeral, in_view, is_public, where
from bot.channels.slack.sharing import SharedReplies
from bot.channels.slack.turns import Turns
from bot.messages import Action, Outcome, Reply

log = logging.getLogger(__name__)

MODAL_ACTIONS = {"ticket.open", FORM_ACTION}
FEEDBACK_ACTION = "answer.feedback"


class Interactions:
    """``block_actions`` and ``view_submission`` listeners."""

    def __init__(self, client: WebClient, turns: Turns, delivery: Delivery, shared: SharedReplies, *,
                 command: str) -> None:
        self.client = client
        self.turns = turns
        self.delivery = delivery
        self.shared = shared
        self.command = command

    # --- buttons ----------------------------------------------------------
    def ack_action(self, ack: Ack, body: Payload) -> None:
        """Ack, then open the ticket modal right away (trigger_id expires 3 s after the click)."""
        ack()
        action = first_action(body)
        if action is None or action.action_id not in MODAL_ACTIONS:
            return
        if not self.open_form(body, action):
            self.run_action(body, action, modal=False)  # no modal possible: the flow asks in chat

    def open_form(self, body: Payload, action: Action) -> bool:
        """``views.open`` the ticket modal for a form button; False when Slack would not open it."""
        if not body.get("trigger_id"):
            return False
        value: dict[str, Any] = action.value
        if action.action_id != FORM_ACTION:  # "Open a ticket": prefill only the summary
            value = {"fields": {"summary": action.value.get("summary") or ""}}
        channel, thread_ts = where(body)
        try:
            self.client.views_open(trigger_id=body["trigger_id"],
                                   view=form_modal(value, channel=channel, thread_ts=thread_ts))
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            return False
        return True

    def on_action(self, body: Payload) -> None:
        """A button click after the ack: share, or run the engine's action."""
        action = first_action(body)
        if action is None or action.action_id in MODAL_ACTIONS:
            return
        if action.action_id == SHARE_ACTION:
            self.share(body, str(action.value.get("turn") or ""))
            return
        self.run_action(body, action)

    def run_action(self, body: Payload, action: Action, *, modal: bool = True) -> None:
        """Run ``action`` as a turn and answer where the button was (or in the DM from a view)."""
        user_id = clicker_of(body)
        channel, thread_ts = where(body)
        ephemeral, from_view = in_ephemeral(body), in_view(body)
        reply = self.turns.run(user_id=user_id, text="", channel_id=channel, thread_ts=thread_ts,
                               private=privacy.private_conversation(channel, ephemeral=ephemeral, in_view=from_view),
                               action=action)
        if modal and reply.form is not None and body.get("trigger_id"):
            form_action = Action(FORM_ACTION, {"fields": reply.form.fields, "submit": reply.form.submit_action,
                                               "title": reply.form.title})
            if self.open_form(body, form_action):
                return
        if reply.outcome is Outcome.FEEDBACK and not is_public(channel) and not ephemeral:
            self.retire_feedback_buttons(body, helpful=bool(action.value.get("helpful")))
        if from_view:
            self.delivery.to_user_or_park(reply, user_id)
            return
        self.delivery.reply_in_place(reply, user_id=user_id, channel=str(channel), thread_ts=thread_ts,
                                     public=is_public(channel), response_url=body.get("response_url"),
                                     force_ephemeral=privacy.only_for_the_asker(reply, channel,
                                                                                asked_in_ephemeral=ephemeral))

    def retire_feedback_buttons(self, body: Payload, *, helpful: bool) -> None:
        """In a DM, replace the rated answer's Helpful/Not helpful buttons by the rating (no double votes)."""
        message = body.get("message") or {}
        channel, _ = where(body)
        if not message.get("ts") or not channel or not message.get("blocks"):
            return
        blocks = []
        for block in message["blocks"]:
            if block.get("type") == "actions":
                kept = [e for e in block.get("elements", [])
                        if (decode_value(e.get("value")) or Action("")).action_id != FEEDBACK_ACTION]
                if not kept:
                    continue
                block = {**block, "elements": kept}
            blocks.append(block)
        verdict = texts.RATED_HELPFUL if helpful else texts.RATED_NOT_HELPFUL
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": verdict}]})
        try:
            self.client.chat_update(channel=channel, ts=message["ts"], text=message.get("text") or verdict,
                                    blocks=blocks[:MAX_BLOCKS_MESSAGE])
        except SlackApiError as exc:  # cosmetic: the rating itself is stored
            log.info("could not update the rated message: %s", exc.response.get("error"))

    def share(self, body: Payload, turn_id: str) -> None:
        """"Share in channel": post the clicker's own stored answer for everyone, once."""
        user_id = clicker_of(body)
        channel, _ = where(body)
        reply = self.shared.take(turn_id, user_id=user_id)
        if reply is None or not channel:
            self.delivery.reply_in_place(Reply(text=texts.SHARE_GONE, private=True), user_id=user_id,
                                         channel=str(channel), thread_ts=None, public=True, force_ephemeral=True,
                                         response_url=body.get("response_url"))
            return
        try:
            self.delivery.post(reply, channel=channel,
                               note=texts.SHARED_BY.format(user_id=user_id, command=self.command))
        except SlackApiError as exc:
            if body.get("response_url"):
                self.delivery.respond(body["response_url"], reply, in_channel=True)
            else:
                self.delivery.park(reply, user_id, exc)

    # --- the ticket modal ------------------------------------------------
    def on_ticket_submitted(self, body: Payload, view: Payload) -> None:
        """Modal submitted: run the engine's submit action and confirm (with the key) in the DM."""
        action, _meta = read_submission(view)
        user_id = clicker_of(body)
        reply = self.turns.run(user_id=user_id, text="", channel_id=None, thread_ts=None, private=True,
                               action=action)
        self.delivery.to_user_or_park(reply, user_id)
