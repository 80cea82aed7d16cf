"""Posting replies to Slack: threads, ephemerals, DMs — and never losing one.

Where a reply may appear is decided by :mod:`bot.channels.slack.privacy`; this
module carries it out. If Slack still refuses after the client's own
429/connection retries, the reply goes to the notification outbox
(bot.notify) addressed to the user's DM, and the background worker delivers it
later through :meth:`Delivery.send_notification`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.channels.slack import outbox_once, privacy, texts
from bot.channels.slack.blocks import MAX_BLOCKS_MESSAGE, render_reply
from bot.errors import SlackError
from bot.messages import Button, Reply
from bot.notify import enqueue
from bot.storage.session import Database

log = logging.getLogger(__name__)
NOT_REACHABLE = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action"}


def is_user_id(slack_id: str) -> bool:
    """User ids (U…, W…) are DMed; anything else is a conversation id to post in."""
    return slack_id[:1] in ("U", "W")


class Delivery:
    """Sends rendered replies; falls back to response_url or the outbox instead of dropping them."""

    def __init__(self, client: WebClient, db: Database) -> None:
        self.client = outbox_once.install(client)  # outbox posts (this class's and the triage's) once
        self.db = db
        self._dm_channels: dict[str, str] = {}
        self._lock = threading.Lock()

    # --- primitives -----------------------------------------------------------
    def dm_channel(self, user_id: str) -> str:
        """The DM conversation with ``user_id`` (conversations.open, remembered)."""
        with self._lock:
            known = self._dm_channels.get(user_id)
        if known:
            return known
        opened = self.client.conversations_open(users=user_id).get("channel")
        channel = str(opened.get("id") if isinstance(opened, dict) else None)
        with self._lock:
            self._dm_channels[user_id] = channel
        return channel

    def post(self, reply: Reply, *, channel: str, thread_ts: str | None = None,
             extra_buttons: list[Button] | None = None, note: str | None = None,
             native_feedback: bool = False) -> None:
        """chat.postMessage (with an optional context line on top).

        ``native_feedback`` (an assistant panel thread): Helpful / Not helpful as Slack's feedback buttons.
        """
        text, blocks = render_reply(reply, extra_buttons=extra_buttons, native_feedback=native_feedback)
        if note:
            blocks.insert(0, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
            blocks = blocks[:MAX_BLOCKS_MESSAGE]
        args: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks}
        if thread_ts:
            args["thread_ts"] = thread_ts
        self.client.chat_postMessage(**args)

    def post_ephemeral(self, reply: Reply, *, channel: str, user_id: str, thread_ts: str | None = None,
                       extra_buttons: list[Button] | None = None) -> None:
        """chat.postEphemeral: only ``user_id`` sees it, and only until they reload."""
        text, blocks = render_reply(reply, extra_buttons=extra_buttons)
        args: dict[str, Any] = {"channel": channel, "user": user_id, "text": text, "blocks": blocks}
        if thread_ts:
            args["thread_ts"] = thread_ts
        self.client.chat_postEphemeral(**args)

    def respond(self, response_url: str, reply: Reply, *, in_channel: bool = False,
                extra_buttons: list[Button] | None = None) -> None:
        """Answer through the payload's ``response_url`` (never with a credential)."""
        if not privacy.may_use_response_url(reply):
            raise SlackError(detail="refusing to send a one-time credential to a response_url")
        text, blocks = render_reply(reply, extra_buttons=extra_buttons)
        result = WebhookClient(response_url, timeout=self.client.timeout).send(
            text=text, blocks=blocks, response_type="in_channel" if in_channel else "ephemeral",
            replace_original=False)
        if result.status_code != 200:
            raise SlackError(detail=f"response_url answered HTTP {result.status_code}")

    # --- the policies ---------------------------------------------------------
    def to_user(self, reply: Reply, user_id: str) -> None:
        """A direct message (conversations.open + chat.postMessage)."""
        self.post(reply, channel=self.dm_channel(user_id))

    def to_user_or_park(self, reply: Reply, user_id: str) -> None:
        """A direct message; queued for the worker if Slack refuses."""
        try:
            self.to_user(reply, user_id)
        except Exception as exc:
            self.park(reply, user_id, exc)

    def privately(self, reply: Reply, user_id: str) -> None:
        """To the employee alone, from a surface with no conversation (App Home, a modal).

        A one-time credential is never posted into the DM history: it goes ephemeral in
        the DM; if Slack refuses that, the employee is asked to ask again in the DM.
        """
        if not reply.sensitive:
            self.to_user_or_park(reply, user_id)
            return
        try:
            self.post_ephemeral(reply, channel=self.dm_channel(user_id), user_id=user_id)
        except Exception as exc:
            log.warning("could not show a credential ephemerally (%s)", type(exc).__name__)
            self.to_user_or_park(Reply(text=texts.ASK_IN_DM, private=True, intent=reply.intent), user_id)

    def notice(self, text: str, *, user_id: str, channel: str | None, thread_ts: str | None = None) -> None:
        """A short word to the employee (failure, slow down) where they asked; best effort, never queued."""
        reply = Reply(text=text, private=True)
        try:
            if channel and privacy.is_public(channel):
                try:
                    self.post_ephemeral(reply, channel=channel, user_id=user_id, thread_ts=thread_ts)
                    return
                except SlackApiError:
                    thread_ts = None  # not reachable there: the DM
            dm = channel if channel and not privacy.is_public(channel) else self.dm_channel(user_id)
            self.post(reply, channel=dm, thread_ts=thread_ts)
        except Exception as exc:
            log.warning("could not tell %s: %s", user_id, type(exc).__name__)

    def reply_in_place(self, reply: Reply, *, user_id: str, channel: str, thread_ts: str | None,
                       public: bool, response_url: str | None = None, force_ephemeral: bool = False,
                       extra_buttons: list[Button] | None = None, native_feedback: bool = False) -> None:
        """Answer where the employee asked; what privacy says is for them alone goes ephemeral."""
        try:
            if privacy.must_be_ephemeral(reply, public=public, forced=force_ephemeral):
                self._ephemeral(reply, user_id=user_id, channel=channel, thread_ts=thread_ts,
                                response_url=response_url, extra_buttons=extra_buttons)
            else:
                self.post(reply, channel=channel, thread_ts=thread_ts, extra_buttons=extra_buttons,
                          native_feedback=native_feedback)
        except Exception as exc:
            self.park(reply, user_id, exc)

    def _ephemeral(self, reply: Reply, *, user_id: str, channel: str, thread_ts: str | None,
                   response_url: str | None, extra_buttons: list[Button] | None) -> None:
        try:
            self.post_ephemeral(reply, channel=channel, user_id=user_id, thread_ts=thread_ts,
                                extra_buttons=extra_buttons)
        except SlackApiError as exc:
            if (response_url and privacy.may_use_response_url(reply)
                    and exc.response.get("error") in NOT_REACHABLE):
                self.respond(response_url, reply, extra_buttons=extra_buttons)
                return
            raise

    def park(self, reply: Reply, user_id: str, exc: Exception) -> None:
        """Slack refused even after retries: queue the reply for the user's DM (worker retries)."""
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("Slack reply not delivered (%s); queued for %s", error, user_id)
        reply = privacy.for_the_dm_outbox(reply)
        with self.db.session() as session:
            enqueue(session, user_key=f"slack:{user_id}", reply=reply,
                    dedupe_key=f"slack-reply:{reply.turn_id}" if reply.turn_id else None)

    def send_notification(self, user_key: str, reply: Reply) -> None:
        """The notification sender: ``slack:U…``/``slack:W…`` → DM; ``slack:C…``/``G…``/``D…`` → post."""
        target = user_key.split(":", 1)[1] if ":" in user_key else user_key
        if not target:
            raise SlackError(detail=f"no Slack id in {user_key!r}")
        channel = self.dm_channel(target) if is_user_id(target) else target
        self.post(reply, channel=channel)
