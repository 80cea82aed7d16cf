"""Is a signed payload shaped like what Slack sends? The types of every field bolt or the bot reads.

bolt (and the bot) index payloads assuming Slack's types; a signed payload with
a number for ``type`` or a string for ``event`` would otherwise end in a
TypeError. :func:`problem` names the first field of the wrong type (the route
answers 400); unknown fields and missing optional ones are fine.
"""

from __future__ import annotations

from typing import Any

NONE = type(None)
S = (str,)
S0 = (str, NONE)
D0 = (dict, NONE)
L0 = (list, NONE)
B0 = (bool, NONE)

SPECS: dict[str, dict[str, tuple[type, ...]]] = {
    "": {"type": S0, "event": D0, "event_id": S0, "team_id": S0, "api_app_id": S0, "enterprise_id": S0,
         "authorizations": L0, "is_ext_shared_channel": B0, "is_enterprise_install": B0, "user": D0, "team": D0,
         "enterprise": D0, "channel": D0, "container": D0, "message": D0, "actions": L0, "view": D0,
         "trigger_id": S0, "response_url": S0, "response_urls": L0, "user_id": S0, "channel_id": S0,
         "command": S0, "text": S0, "context_team_id": S0, "context_enterprise_id": S0, "state": D0,
         "callback_id": S0, "function_data": D0, "bot_access_token": S0, "function_execution_id": S0},
    "event": {"type": S, "user": S0, "text": S0, "channel": S0, "channel_type": S0, "ts": S0, "thread_ts": S0,
              "event_ts": S0, "subtype": S0, "bot_id": S0, "tab": S0, "team": S0, "user_team": S0,
              "message": D0, "previous_message": D0, "item": D0, "assistant_thread": D0, "blocks": L0,
              "user_id": S0, "enterprise": S0, "bot_access_token": S0, "function_execution_id": S0,
              "inputs": D0, "callback_id": S0},
    "event.message": {"user": S0, "ts": S0, "thread_ts": S0, "text": S0},
    "event.previous_message": {"user": S0, "ts": S0, "thread_ts": S0, "text": S0},
    "event.item": {"channel": S0, "ts": S0, "type": S0},
    "event.assistant_thread": {"channel_id": S0, "thread_ts": S0, "user_id": S0, "context": D0},
    "user": {"id": S0, "team_id": S0, "username": S0, "name": S0},
    "team": {"id": S0, "domain": S0, "enterprise_id": S0},
    "enterprise": {"id": S0, "name": S0},
    "channel": {"id": S0, "name": S0},
    "container": {"type": S0, "channel_id": S0, "message_ts": S0, "thread_ts": S0, "view_id": S0,
                  "is_ephemeral": B0},
    "message": {"ts": S0, "thread_ts": S0, "text": S0, "user": S0, "bot_id": S0, "blocks": L0, "type": S0},
    "actions[]": {"action_id": S0, "block_id": S0, "value": S0, "action_ts": S0, "type": S0},
    "authorizations[]": {"team_id": S0, "enterprise_id": S0, "user_id": S0, "is_enterprise_install": B0,
                         "is_bot": B0},
    "response_urls[]": {"response_url": S0, "channel_id": S0, "block_id": S0, "action_id": S0},
    "view": {"id": S0, "hash": S0, "callback_id": S0, "private_metadata": S0, "state": D0, "type": S0,
             "team_id": S0, "app_installed_team_id": S0, "blocks": L0, "root_view_id": S0,
             "previous_view_id": S0, "external_id": S0, "bot_id": S0, "app_id": S0},
    "view.state": {"values": D0},
}
NEVER_NULL = ("event", "view", "actions", "authorizations", "response_urls")
# payload type → fields bolt indexes directly (they must be there, as strings)
REQUIRED: dict[str, tuple[str, ...]] = {
    "event_callback": ("event.type",), "url_verification": ("challenge",),
    "view_submission": ("view.callback_id",), "view_closed": ("view.callback_id",),
    "shortcut": ("callback_id",), "message_action": ("callback_id",), "interactive_message": ("callback_id",),
    "dialog_submission": ("callback_id",), "dialog_cancellation": ("callback_id",),
    "dialog_suggestion": ("callback_id",), "workflow_step_edit": ("callback_id",),
    "block_suggestion": ("action_id",),
}
ITEM_SPECS = {"actions": "actions[]", "authorizations": "authorizations[]", "response_urls": "response_urls[]"}


def _check(obj: dict[str, Any], path: str) -> str | None:
    for key, kinds in SPECS.get(path, {}).items():
        value = obj.get(key)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            return f"{path + '.' if path else ''}{key}"
        child = f"{path}.{key}" if path else key
        if isinstance(value, dict) and child in SPECS:
            found = _check(value, child)
            if found:
                return found
        if isinstance(value, list) and not path and key in ITEM_SPECS:
            for item in value:
                if not isinstance(item, dict):
                    return f"{key}[]"
                found = _check(item, ITEM_SPECS[key])
                if found:
                    return found
    return None


def problem(body: dict[str, Any]) -> str | None:
    """The first field of ``body`` whose type Slack would never send, or None."""
    found = _check(body, "")
    if found:
        return found
    for key in NEVER_NULL:  # Slack leaves a structure out; it never sends it as null (bolt would crash on it)
        if key in body and body[key] is None:
            return key
    kind = body.get("type")
    if not isinstance(kind, str) and "command" not in body:
        return "type"  # every event and interactive payload names its type (slash commands have `command`)
    for path in REQUIRED.get(str(kind), ()):
        value: Any = body
        for step in path.split("."):
            value = value.get(step) if isinstance(value, dict) else None
        if not isinstance(value, str):
            return path
    if kind == "block_actions":
        actions = body.get("actions")
        if not actions or not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return "actions"
    event = body.get("event")
    if isinstance(event, dict) and event.get("type") == "workflow_step_execute" \
            and not isinstance(event.get("callback_id"), str):
        return "event.callback_id"
    return None
