"""A rasa-sdk action server exposing the bot's flows to an existing Rasa assistant.

Run it with ``helpdesk rasa-actions --port 5055`` and point Rasa's
``endpoints.yml`` at ``http://<host>:5055/webhook``. Each action feeds the
user's latest message (or button payload) through the engine and utters the
reply: text, buttons as Rasa button payloads, and the full reply (sources,
ticket key…) as the message's ``custom`` payload.

Actions:
* ``action_helpdesk``: let the bot understand and route the message itself
* ``action_helpdesk_answer`` / ``_open_ticket`` / ``_ticket_status`` /
  ``_unlock_account`` / ``_reset_password``: run one flow, with Rasa's intent

Identity: Rasa does not vouch for e-mail addresses, so account actions
arrive without a verified e-mail and end in a ticket for IT, never in a
directory change.
"""

from __future__ import annotations

import asyncio
import json
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.messages import Action as BotAction
from bot.messages import Message, Reply, plain_text

BUTTON_INTENT = "helpdesk_button"


@lru_cache(maxsize=1)
def _engine() -> Any:
    """One engine per action-server process, on the configured settings."""
    from bot.config import load_settings
    from bot.engine import Engine
    from bot.services import Services
    from bot.storage import migrate

    services = Services(load_settings())
    migrate.prepare(services.db)
    return Engine(services)


def button_payload(action_id: str, value: dict[str, Any]) -> str:
    """A Rasa button payload that comes back as intent ``helpdesk_button`` with our action."""
    entities = {"action_id": action_id, "value": json.dumps(value, separators=(",", ":"))}
    return f"/{BUTTON_INTENT}{json.dumps(entities, separators=(',', ':'))}"


def message_from_tracker(tracker: Tracker, forced_intent: str | None = None) -> Message:
    """The engine's Message for the tracker's latest user message (``forced_intent`` overrides NLU)."""
    latest = tracker.latest_message or {}
    text = str(latest.get("text") or "")
    message = Message(text=text, user_key=f"rasa:{tracker.sender_id}", channel="rasa")
    intent = (latest.get("intent") or {}).get("name")
    if intent == BUTTON_INTENT:
        action_id = next(tracker.get_latest_entity_values("action_id"), None)
        raw_value = next(tracker.get_latest_entity_values("value"), "{}")
        try:
            value = json.loads(raw_value) if isinstance(raw_value, str) else dict(raw_value)
        except (ValueError, TypeError):
            value = {}
        if action_id:
            message.action = BotAction(str(action_id), value)
    elif forced_intent:
        message.action = BotAction("router.choose", {"intent": forced_intent, "text": text})
    return message


def utter(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    """Send ``reply`` through Rasa's dispatcher (never a credential: Rasa stores trackers)."""
    if reply.sensitive:  # Rasa keeps a tracker store: credentials never go through it
        reply = Reply(text="That can only be shown in Slack. Please ask me there.", private=True)
    text = plain_text(reply.text)  # Rasa's channels are not Slack: no mrkdwn
    if reply.quote:
        text += "\n\n> " + reply.quote.replace("\n", "\n> ")
    if reply.sources:
        text += f"\n\nSource: {reply.sources[0].title} ({reply.sources[0].url})"
    buttons = [{"title": plain_text(b.label), "payload": button_payload(b.action_id, b.value)}
               for b in reply.buttons if not b.url]
    dispatcher.utter_message(text=text, buttons=buttons, json_message={"helpdesk": reply.to_dict(plain=True)})


class HelpdeskAction(Action):
    """Run the message through the engine; subclasses force one intent's flow."""

    action_name = "action_helpdesk"
    intent: str | None = None

    def name(self) -> str:
        return self.action_name

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        message = message_from_tracker(tracker, self.intent)
        reply = await asyncio.to_thread(_engine().handle, message)
        utter(dispatcher, reply)
        return []


class AnswerAction(HelpdeskAction):
    """Answer from the knowledge base."""
    action_name = "action_helpdesk_answer"
    intent = "knowledge_question"  # not a routed intent: goes to the knowledge base


class OpenTicketAction(HelpdeskAction):
    """Open a ticket for IT staff."""
    action_name = "action_helpdesk_open_ticket"
    intent = "open_ticket"


class TicketStatusAction(HelpdeskAction):
    """Report a ticket's status."""
    action_name = "action_helpdesk_ticket_status"
    intent = "ticket_status"


class UnlockAccountAction(HelpdeskAction):
    """Unlock the employee's own account."""
    action_name = "action_helpdesk_unlock_account"
    intent = "account_unlock"


class ResetPasswordAction(HelpdeskAction):
    """Reset the employee's own password."""
    action_name = "action_helpdesk_reset_password"
    intent = "password_reset"


ACTIONS = [HelpdeskAction, AnswerAction, OpenTicketAction, TicketStatusAction,
           UnlockAccountAction, ResetPasswordAction]


def serve(port: int = 5055) -> None:
    """Run the rasa-sdk action server (Sanic) with the helpdesk actions."""
    from rasa_sdk.endpoint import run
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    for action in ACTIONS:
        executor.register_action(action)
    run(executor, port)
