"""Slack payloads → jobs: the plain, JSON-able description of one piece of work, or None to ignore it.

Every field is read with its type checked (a signed payload can still carry a
number where Slack sends a string): a payload of the wrong shape is ignored,
never an exception. Each job has a ``key`` that is the same for a redelivery or
a replay of the same payload, and different for a new message or click:

- events: the Events API ``event_id``;
- slash commands: user, channel, ``trigger_id`` and text;
- buttons: user, ``action_ts``, ``action_id``, block, value and the container;
- modal submissions: user, view id, view hash and the submitted values.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.channels.slack.blocks import decode_value
from bot.channels.slack.modals import TICKET_CALLBACK, read_submission
from bot.channels.slack.payloads import ANSWERED_SUBTYPES, clean_text, is_public

Job = dict[str, Any]
MAX_TEXT = 4000  # what the chat API accepts, too


def text_of(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def obj(value: Any) -> dict[str, Any]:
    """A JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def safe_text(text: str) -> str:
    """Text the engine and the database can take: no NULs or lone surrogates, at most 4,000 characters."""
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[:MAX_TEXT]


def digest(*parts: Any) -> str:
    """A stable short hash of JSON-able parts."""
    raw = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


def user_of_job(job: Job) -> str:
    """The Slack user a job is for (the per-user queue and rate limit key)."""
    return str(job.get("user") or "?")


# --- Events API -----------------------------------------------------------------
def _answerable(event: dict[str, Any], bot_user_id: str | None) -> str | None:
    """The author of a new message written by a person (not a bot, edit, join or the bot itself)."""
    user = text_of(event.get("user"))
    subtype = event.get("subtype")
    if event.get("bot_id") or user is None or (subtype is not None and not isinstance(subtype, str)):
        return None
    if subtype not in ANSWERED_SUBTYPES or (bot_user_id and user == bot_user_id):
        return None
    return user


def event_job(body: dict[str, Any], bot_user_id: str | None) -> Job | None:
    """The job of an ``event_callback``: a mention, a direct message or App Home opened."""
    event = obj(body.get("event"))
    kind = event.get("type")
    event_id = text_of(body.get("event_id"))
    if body.get("type") != "event_callback" or not isinstance(kind, str) or event_id is None:
        return None
    if kind == "app_home_opened":
        user, tab = text_of(event.get("user")), event.get("tab", "home")
        return {"kind": "home", "key": event_id, "user": user} if user and tab == "home" else None
    if kind not in ("app_mention", "message"):
        return None
    user = _answerable(event, bot_user_id)
    channel, ts = text_of(event.get("channel")), text_of(event.get("ts"))
    if user is None or channel is None:
        return None
    text = safe_text(clean_text(safe_text(text_of(event.get("text")) or ""), bot_user_id))
    thread_ts = text_of(event.get("thread_ts"))
    if kind == "app_mention":
        return {"kind": "mention", "key": event_id, "user": user, "channel": channel,
                "thread_ts": thread_ts or ts or None, "text": text, "event_id": event_id}
    if event.get("channel_type") != "im":
        return None  # channel messages arrive as app_mention
    return {"kind": "dm", "key": event_id, "user": user, "channel": channel, "thread_ts": thread_ts,
            "text": text, "event_id": event_id}


# --- slash commands -------------------------------------------------------------
def command_job(body: dict[str, Any], command: str) -> Job | None:
    """The job of ``/helpdesk …``."""
    user, channel = text_of(body.get("user_id")), text_of(body.get("channel_id"))
    if body.get("command") != command or user is None or channel is None:
        return None
    text = safe_text(clean_text(safe_text(text_of(body.get("text")) or "")))
    trigger = text_of(body.get("trigger_id"))
    return {"kind": "command", "key": "cmd:" + digest(user, channel, trigger, text), "user": user,
            "channel": channel, "text": text, "response_url": text_of(body.get("response_url"))}


# --- interactivity --------------------------------------------------------------
def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container, message = obj(body.get("container")), obj(body.get("message"))
    channel = text_of(container.get("channel_id")) or text_of(obj(body.get("channel")).get("id"))
    thread_ts = text_of(message.get("thread_ts")) or text_of(container.get("thread_ts"))
    if not thread_ts and channel and is_public(channel):
        thread_ts = text_of(message.get("ts")) or text_of(container.get("message_ts"))
    return channel, thread_ts


def action_job(body: dict[str, Any]) -> Job | None:
    """The job of a ``block_actions`` click on one of the bot's buttons (link buttons and others: None)."""
    user = text_of(obj(body.get("user")).get("id"))
    actions = body.get("actions")
    first = obj(actions[0]) if isinstance(actions, list) and actions else {}
    action = decode_value(text_of(first.get("value")))
    if body.get("type") != "block_actions" or user is None or action is None:
        return None
    container, message = obj(body.get("container")), obj(body.get("message"))
    channel, thread_ts = _where(body)
    blocks = message.get("blocks")
    key = "ia:" + digest(user, first.get("action_ts"), first.get("action_id"), first.get("block_id"),
                         first.get("value"), container.get("message_ts"), container.get("view_id"), channel)
    return {"kind": "action", "key": key, "user": user, "channel": channel, "thread_ts": thread_ts,
            "action_id": action.action_id, "value": action.value,
            "ephemeral": container.get("is_ephemeral") is True,
            "in_view": container.get("type") == "view" or channel is None,
            "response_url": text_of(body.get("response_url")), "trigger_id": text_of(body.get("trigger_id")),
            "message_ts": text_of(message.get("ts")), "message_text": text_of(message.get("text")),
            "message_blocks": [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []}


def ticket_submission(body: dict[str, Any], callback: str, kind: str) -> tuple[Job, dict[str, Any]] | None:
    """The ``kind`` job of a submitted ticket modal ``callback`` and the modal's metadata (else None)."""
    view = obj(body.get("view"))
    user = text_of(obj(body.get("user")).get("id"))
    if body.get("type") != "view_submission" or view.get("callback_id") != callback or user is None:
        return None
    submitted = read_submission(view)
    if submitted is None:
        return None
    action, meta = submitted
    key = "vs:" + digest(user, view.get("id"), view.get("hash"), view.get("state"))
    return {"kind": kind, "key": key, "user": user, "action_id": action.action_id,
            "fields": {k: safe_text(str(v)) for k, v in action.value.items()}}, meta


def submission_job(body: dict[str, Any]) -> Job | None:
    """The job of the ticket modal's ``view_submission`` (an unknown submit action: None)."""
    found = ticket_submission(body, TICKET_CALLBACK, "submission")
    return found[0] if found is not None else None


def job_of(body: dict[str, Any], *, bot_user_id: str | None, command: str) -> Job | None:
    """The job a payload asks for (events, commands, buttons, modal submissions), or None."""
    kind = body.get("type")
    if kind == "event_callback":
        return event_job(body, bot_user_id)
    if kind == "block_actions":
        return action_job(body)
    if kind == "view_submission":
        return submission_job(body)
    if kind is None and "command" in body:
        return command_job(body, command)
    return None
