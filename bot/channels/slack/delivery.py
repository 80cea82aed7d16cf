"""Posting replies to Slack: threads, ephemerals, DMs — and never losing one.

If Slack still refuses after the client's own 429/connection retries, the reply
goes to the notification outbox (bot.notify) addressed to the user's DM, and the
background worker delivers it later through :meth:`Delivery.send_notification`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.channels.slack.blocks import render_reply
from bot.errors import SlackError
from bot.messages import Button, Reply
from bot.notify import enqueue
from bot.storage.session import Database

log = logging.getLogger(__name__)
NOT_REACHABLE = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action"}


def is_user_id(slack_id: str) -> bool:
    return slack_id[:1] in ("U", "W")


class Delivery:
    """Sends rendered replies; falls back to response_url or the outbox instead of dropping them."""

    def __init__(self, client: WebClient, db: Database) -> None:
        self.client = client
        self.db = db
        self._dm_channels: dict[str, str] = {}
        self._lock = threading.Lock()

    # --- primitives -----------------------------------------------------------
    def dm_channel(self, user_id: str) -> str:
        with self._lock:
            known = self._dm_channels.get(user_id)
        if known:
            return known
        data = self.client.conversations_open(users=user_id).data
        channel = str((data.get("channel") or {}).get("id"))  # type: ignore[union-attr]
        with self._lock:
            self._dm_channels[user_id] = channel
        return channel

    def post(self, reply: Reply, *, channel: str, thread_ts: str | None = None,
             extra_buttons: list[Button] | None = None, note: str | None = None) -> dict[str, Any]:
        text, blocks = render_reply(reply, extra_buttons=extra_buttons)
        if note:
            blocks.insert(0, {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
            blocks = blocks[:50]
        args: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks}
        if thread_ts:
            args["thread_ts"] = thread_ts
        return self.client.chat_postMessage(**args).data  # type: ignore[return-value]

    def post_ephemeral(self, reply: Reply, *, channel: str, user_id: str, thread_ts: str | None = None,
                       extra_buttons: list[Button] | None = None) -> None:
        text, blocks = render_reply(reply, extra_buttons=extra_buttons)
        args: dict[str, Any] = {"channel": channel, "user": user_id, "text": text, "blocks": blocks}
        if thread_ts:
            args["thread_ts"] = thread_ts
        self.client.chat_postEphemeral(**args)

    def respond(self, response_url: str, reply: Reply, *, in_channel: bool = False,
                extra_buttons: list[Button] | None = None) -> None:
        if reply.sensitive:  # a response_url is just a URL in the payload: never trust it with a credential
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

    def reply_in_place(self, reply: Reply, *, user_id: str, channel: str, thread_ts: str | None,
                       public: bool, response_url: str | None = None, force_ephemeral: bool = False,
                       extra_buttons: list[Button] | None = None) -> None:
        """Answer where the employee asked; private content in a public place goes ephemeral."""
        try:
            # a credential (temporary password, one-time link) is shown once and never kept
            # in the conversation's history: ephemeral even in a DM
            if force_ephemeral or reply.sensitive or (public and reply.private):
                self._ephemeral(reply, user_id=user_id, channel=channel, thread_ts=thread_ts,
                                response_url=response_url, extra_buttons=extra_buttons)
            else:
                self.post(reply, channel=channel, thread_ts=thread_ts, extra_buttons=extra_buttons)
        except Exception as exc:
            self.park(reply, user_id, exc)

    def _ephemeral(self, reply: Reply, *, user_id: str, channel: str, thread_ts: str | None,
                   response_url: str | None, extra_buttons: list[Button] | None) -> None:
        try:
            self.post_ephemeral(reply, channel=channel, user_id=user_id, thread_ts=thread_ts,
                                extra_buttons=extra_buttons)
        except SlackApiError as exc:
            if response_url and not reply.sensitive and exc.response.get("error") in NOT_REACHABLE:
                self.respond(response_url, reply, extra_buttons=extra_buttons)
                return
            raise

    def park(self, reply: Reply, user_id: str, exc: Exception) -> None:
        """Slack refused even after retries: queue the reply for the user's DM (worker retries)."""
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("Slack reply not delivered (%s); queued for %s", error, user_id)
        reply.private = True
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
