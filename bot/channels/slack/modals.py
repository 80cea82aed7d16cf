"""The ticket form as a Slack modal (views.open) and reading its submission back."""

from __future__ import annotations

import json
from typing import Any

from bot.channels.slack import texts
from bot.channels.slack.blocks import plain, truncate
from bot.messages import Action
from integrations.ticketing import URGENCY_LABELS

TICKET_CALLBACK = "helpdesk.ticket"
# the engine actions a modal may submit to (private_metadata comes back from the client: never trust it)
SUBMIT_ACTIONS = frozenset({"ticket.submit"})
DEFAULT_SUBMIT = "ticket.submit"
MODAL_TITLE = 24          # title, submit and close texts
PRIVATE_METADATA = 3000
SUMMARY_MAX = 250
DETAILS_MAX = 3000
LABEL = 2000
OPTION_TEXT = 75
PLACEHOLDER = 150


def ticket_modal(fields: dict[str, Any], *, submit_action: str = "ticket.submit",
                 title: str = texts.TICKET_FORM_TITLE, channel: str | None = None,
                 thread_ts: str | None = None) -> dict[str, Any]:
    """A modal with summary (prefilled), details and urgency; submits to ``submit_action``."""
    summary = truncate(str(fields.get("summary") or "").strip(), SUMMARY_MAX)
    details = truncate(str(fields.get("details") or "").strip(), DETAILS_MAX)
    urgency = str(fields.get("urgency") or "normal")
    if urgency not in URGENCY_LABELS:
        urgency = "normal"
    options = [{"text": plain(label, OPTION_TEXT), "value": value} for value, label in URGENCY_LABELS.items()]
    summary_input: dict[str, Any] = {"type": "plain_text_input", "action_id": "value",
                                     "max_length": SUMMARY_MAX}
    if summary:
        summary_input["initial_value"] = summary
    details_input: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "multiline": True,
                                     "max_length": DETAILS_MAX,
                                     "placeholder": plain(texts.DETAILS_PLACEHOLDER, PLACEHOLDER)}
    if details:
        details_input["initial_value"] = details
    meta = {"submit": submit_action, "channel": channel, "thread_ts": thread_ts}
    return {
        "type": "modal",
        "callback_id": TICKET_CALLBACK,
        "title": plain(title, MODAL_TITLE),
        "submit": plain(texts.TICKET_FORM_SUBMIT, MODAL_TITLE),
        "close": plain(texts.TICKET_FORM_CANCEL, MODAL_TITLE),
        "private_metadata": json.dumps(meta, separators=(",", ":"))[:PRIVATE_METADATA],
        "blocks": [
            {"type": "input", "block_id": "summary", "label": plain(texts.SUMMARY_LABEL, LABEL),
             "element": summary_input},
            {"type": "input", "block_id": "details", "label": plain(texts.DETAILS_LABEL, LABEL), "optional": True,
             "element": details_input},
            {"type": "input", "block_id": "urgency", "label": plain(texts.URGENCY_LABEL, LABEL),
             "element": {"type": "static_select", "action_id": "value", "options": options,
                         "initial_option": next(o for o in options if o["value"] == urgency)}},
        ],
    }


def form_modal(value: dict[str, Any], *, channel: str | None, thread_ts: str | None) -> dict[str, Any]:
    """The modal for a rendered form button's value (``{fields, submit, title}``, see blocks.render_reply)."""
    fields = value.get("fields") or {}
    submit = value.get("submit")
    return ticket_modal(fields if isinstance(fields, dict) else {},
                        submit_action=submit if isinstance(submit, str) and submit in SUBMIT_ACTIONS
                        else DEFAULT_SUBMIT,
                        title=str(value.get("title") or texts.TICKET_FORM_TITLE), channel=channel,
                        thread_ts=thread_ts)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def read_submission(view: dict[str, Any]) -> tuple[Action, dict[str, Any]] | None:
    """``(Action(submit_action, {summary, details, urgency}), metadata)`` from a view_submission.

    None when the metadata names a submit action that is not in :data:`SUBMIT_ACTIONS`.
    Values of the wrong type read as empty.
    """
    values = _obj(_obj(view.get("state")).get("values"))

    def field(block: str) -> str:
        element = _obj(_obj(values.get(block)).get("value"))
        if element.get("type") == "static_select":
            chosen = _obj(element.get("selected_option")).get("value")
            return chosen if isinstance(chosen, str) else ""
        typed = element.get("value")
        return typed.strip() if isinstance(typed, str) else ""

    raw = view.get("private_metadata")
    try:
        meta = json.loads(raw) if isinstance(raw, str) and raw else {}
    except (ValueError, RecursionError):
        meta = {}
    meta = _obj(meta)
    submit = meta.get("submit") or DEFAULT_SUBMIT
    if not isinstance(submit, str) or submit not in SUBMIT_ACTIONS:
        return None
    urgency = field("urgency")
    action = Action(action_id=str(submit),
                    value={"summary": field("summary")[:SUMMARY_MAX], "details": field("details")[:DETAILS_MAX],
                           "urgency": urgency if urgency in URGENCY_LABELS else "normal"})
    return action, meta
