"""Slack payloads → engine values: who sent it, where, what they typed or pressed.

Pure functions over the JSON Slack sends (Events API, slash commands, interactivity);
no Web API calls and no decisions about who may see a reply (that is :mod:`.privacy`).
"""

from __future__ import annotations

import html
import re
from typing import Any

from bot.channels.slack.blocks import decode_value
from bot.channels.slack.identity import SlackUser
from bot.messages import Action, Message

# message subtypes the bot answers; anything else (edits, deletions, joins, bots) is ignored
ANSWERED_SUBTYPES = {None, "file_share", "thread_broadcast"}
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_CHANNEL_REF = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")

Payload = dict[str, Any]


def clean_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack message markup → what the employee typed: no bot mention, links and entities decoded."""
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")
    text = _MENTION.sub(lambda m: "", text, count=1) if text.lstrip().startswith("<@") else text
    text = _SLACK_LINK.sub(lambda m: (m.group(2) or m.group(1)).removeprefix("mailto:"), text)
    text = _CHANNEL_REF.sub(lambda m: "#" + m.group(1), text)
    return " ".join(html.unescape(text).split())


def is_public(channel_id: str | None) -> bool:
    """Channels (C…) and private channels (G…) are seen by others; DMs (D…) are not."""
    return bool(channel_id) and not str(channel_id).startswith("D")


def is_answerable(event: Payload, bot_user_id: str | None = None) -> bool:
    """A person wrote it (not a bot, not the bot itself) and it is a new message, not an edit or a join."""
    if event.get("bot_id") or not event.get("user") or event.get("subtype") not in ANSWERED_SUBTYPES:
        return False
    return event.get("user") != bot_user_id or bot_user_id is None


def user_of(body: Payload) -> str:
    """The Slack user a payload comes from (events, slash commands, interactivity)."""
    event = body.get("event") or {}
    user = body.get("user")
    return str(event.get("user") or body.get("user_id") or (user.get("id") if isinstance(user, dict) else user)
               or "?")


def clicker_of(body: Payload) -> str:
    """The user who pressed a button or submitted a view."""
    return str((body.get("user") or {}).get("id"))


def first_action(body: Payload) -> Action | None:
    """The engine Action of the button pressed (None for foreign or link-only values)."""
    actions = body.get("actions") or []
    if not actions:
        return None
    return decode_value(actions[0].get("value"))


def where(body: Payload) -> tuple[str | None, str | None]:
    """The channel and thread of the message a button was in (None in App Home / modals)."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    message = body.get("message") or {}
    thread_ts = message.get("thread_ts") or container.get("thread_ts")
    if not thread_ts and channel and is_public(channel):
        thread_ts = message.get("ts") or container.get("message_ts")
    return channel, thread_ts


def in_ephemeral(body: Payload) -> bool:
    """The button was pressed in a message only the clicker sees."""
    return bool((body.get("container") or {}).get("is_ephemeral"))


def in_view(body: Payload) -> bool:
    """The button was pressed in App Home or a modal (no conversation to answer in)."""
    channel, _ = where(body)
    return (body.get("container") or {}).get("type") == "view" or channel is None


def to_message(who: SlackUser, *, text: str, channel_id: str | None, thread_ts: str | None, private: bool,
               event_id: str | None = None, action: Action | None = None) -> Message:
    """The engine's Message for one Slack turn (the conversation is the thread, else the channel)."""
    thread_key = f"{channel_id}:{thread_ts}" if channel_id and thread_ts else channel_id
    return Message(text=text, user_key=f"slack:{who.user_id}", channel="slack", email=who.email,
                   display_name=who.display_name, action=action, is_private=private,
                   thread_key=thread_key, event_id=event_id)
