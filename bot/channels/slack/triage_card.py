"""A ticket as a triage card in IT's channel (what it is, who asked, where it stands, what IT can do), and the
Reply modal.

Pure rendering (ticket row → Block Kit); posting and updating the card is
:mod:`.triage_send`. The card is always rendered from the ticket as it is *now*,
so the first post and every later ``chat.update`` show the same truth.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.channels.slack.blocks import (
    MAX_BLOCKS_MESSAGE,
    button_element,
    context,
    escape,
    header,
    link,
    truncate,
    valid_url,
)
from bot.messages import Button
from bot.storage.base import minute_stamp
from integrations.ticketing.base import URGENCY_LABELS
from integrations.ticketing.drafting import category_label
from integrations.ticketing.models import Ticket

CLAIM, REPLY, RESOLVE, OPEN = "triage.claim", "triage.reply", "triage.resolve", "triage.open"
REPLY_CALLBACK = "helpdesk.triage_reply"  # the Reply modal
CARD_ACTIONS = (CLAIM, REPLY, RESOLVE)
URGENCY_ICONS = {"low": ":white_circle:", "normal": ":large_blue_circle:", "high": ":large_orange_circle:",
                 "critical": ":red_circle:"}
DIRECTORY_FIELDS = ("department", "title", "location", "manager")
FIELD_TEXT = 2000  # a section field's limit
# ticket events as the card's "last activity" reads them (others: the event's name)
ACTIVITY = {"created": "opened", "queued": "queued for Jira", "commented": "IT replied", "slack_reply": "IT replied",
            "requester_comment": "the employee answered", "assigned": "claimed", "slack_claim": "claimed",
            "status": "status changed", "resolved": "resolved", "slack_resolve": "resolved", "reopened": "reopened",
            "waiting_on_employee": "waiting on the employee", "note": "internal note", "rated": "rated by the employee",
            "status_requested": "status change asked in Jira"}


@dataclass(frozen=True)
class Activity:
    """The newest thing that happened to the ticket (its latest event)."""

    kind: str
    actor: str | None
    at: dt.datetime


def directory_details(ticket: Ticket) -> dict[str, str]:
    """The requester's directory details as the ticket's description lists them (``- department: …``)."""
    found: dict[str, str] = {}
    for line in (ticket.description or "").splitlines():
        label, sep, value = line.removeprefix("- ").partition(": ")
        if sep and line.startswith("- ") and label in DIRECTORY_FIELDS and label not in found and value.strip():
            found[label] = value.strip()
    return found


def requester_line(ticket: Ticket) -> str:
    """The requester as IT reads them: a Slack mention when they asked in Slack, their name and e-mail."""
    user_key = ticket.requester_user_key or ""
    parts = []
    if user_key.startswith("slack:"):
        parts.append(f"<@{escape(user_key.split(':', 1)[1])}>")
    name = ticket.requester_name
    if name and not parts:
        parts.append(escape(name))
    if ticket.requester_email:
        parts.append(escape(ticket.requester_email))
    return " · ".join(parts) or escape(user_key or "unknown")


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": truncate(f"*{label}*\n{value}", FIELD_TEXT)}


def _when(at: dt.datetime) -> str:
    """A time every reader sees in their own zone (Slack's date formatting), with a UTC fallback."""
    stamp = int(at.replace(tzinfo=dt.UTC).timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{minute_stamp(at)} UTC>"


def card_buttons(ticket: Ticket) -> list[dict[str, Any]]:
    """Claim / Reply / Resolve (Claim and Resolve only while open) and, for Jira, Open in Jira."""
    value = {"key": ticket.key}
    buttons = []
    done = ticket.status_category == "done"
    if not done:
        buttons.append(Button("Claim", CLAIM, value, style="primary"))
    buttons.append(Button("Reply", REPLY, value))
    if not done:
        buttons.append(Button("Resolve", RESOLVE, value))
    if ticket.backend == "jira" and valid_url(ticket.url):
        buttons.append(Button("Open in Jira", OPEN, value, url=ticket.url))
    elements = [button_element(b, i) for i, b in enumerate(buttons)]
    for element, button in zip(elements, buttons, strict=True):
        if button.action_id == RESOLVE:
            element["confirm"] = {
                "title": {"type": "plain_text", "text": "Resolve this ticket?"},
                "text": {"type": "plain_text",
                         "text": truncate(f"{ticket.key} will be resolved and the employee told so.", 300)},
                "confirm": {"type": "plain_text", "text": "Resolve"},
                "deny": {"type": "plain_text", "text": "Cancel"}}
    return elements


def render_card(ticket: Ticket, activity: Activity | None) -> tuple[str, list[dict[str, Any]]]:
    """``(fallback text, blocks)`` of the card for ``ticket`` as it is now."""
    key = ticket.key or "queued ticket"
    urgency = ticket.urgency or "normal"
    category = ticket.category or "general"
    status = ticket.status + (f" ({ticket.resolution})" if ticket.status_category == "done" and ticket.resolution
                              else "")
    ticket_link = link(ticket.url, key) if ticket.url else f"`{escape(key)}` (local queue)"
    blocks: list[dict[str, Any]] = [
        header(f"{key} · {ticket.summary}"),
        {"type": "section", "fields": [
            _field("Category", f"{escape(category.replace('_', ' '))} `{category_label(category)}`"),
            _field("Urgency", f"{URGENCY_ICONS.get(urgency, '')} {escape(URGENCY_LABELS.get(urgency, urgency))}"),
            _field("Requester", requester_line(ticket)),
            _field("Ticket", ticket_link),
            _field("Status", escape(status)),
            _field("Claimed by", escape(ticket.assignee) if ticket.assignee else "_nobody yet_"),
        ]},
    ]
    details = directory_details(ticket)
    if details:
        blocks.append(context(" · ".join(f"{label}: {escape(value)}" for label, value in details.items())))
    if activity is not None:
        who = f" by {escape(activity.actor)}" if activity.actor and ":" not in activity.actor else ""
        what = ACTIVITY.get(activity.kind, activity.kind.replace("_", " "))
        blocks.append(context(f"Last activity: {escape(what)}{who} · "
                              f"{_when(activity.at)} · reply in this thread to write to the employee"))
    blocks.append({"type": "actions", "block_id": "triage_actions", "elements": card_buttons(ticket)})
    fallback = truncate(f"{key}: {ticket.summary} ({status}, urgency {urgency})", 3000)
    return fallback, blocks[:MAX_BLOCKS_MESSAGE]


def reply_modal(key: str, channel: str) -> dict[str, Any]:
    """The Reply modal: one text field; ``private_metadata`` names the ticket and the card's channel."""
    return {
        "type": "modal", "callback_id": REPLY_CALLBACK,
        "title": {"type": "plain_text", "text": "Reply to the employee"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": f"{key}|{channel}"[:200],
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": (
                f"Your reply goes to the employee's direct messages, marked as from IT with your name, "
                f"and is added to {key} as a comment.")}]},
            {"type": "input", "block_id": "reply", "label": {"type": "plain_text", "text": "Your reply"},
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True,
                         "max_length": 3000}},
        ],
    }
