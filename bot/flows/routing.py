"""Which flow handles which intent. Intents not listed are knowledge questions."""

from __future__ import annotations

INTENT_FLOWS: dict[str, str] = {
    "greet": "smalltalk",
    "goodbye": "smalltalk",
    "thanks": "smalltalk",
    "bot_capabilities": "smalltalk",
    "affirm": "smalltalk",
    "deny": "smalltalk",
    "password_reset": "account",
    "account_unlock": "account",
    "ticket_status": "ticket",
    "my_tickets": "ticket",
    "open_ticket": "ticket",
    "talk_to_human": "ticket",
}
DEFAULT_FLOW = "answer"

# Human-readable names for "Did you mean …?" buttons.
INTENT_LABELS: dict[str, str] = {
    "password_reset": "Reset my password",
    "account_unlock": "Unlock my account",
    "ticket_status": "Check a ticket's status",
    "my_tickets": "List my tickets",
    "open_ticket": "Open a ticket",
    "talk_to_human": "Talk to a person in IT",
    "bot_capabilities": "What can you do?",
}


def flow_for(intent: str) -> str:
    """The flow that handles ``intent`` (the answer flow for knowledge questions)."""
    return INTENT_FLOWS.get(intent, DEFAULT_FLOW)


def label_for(intent: str) -> str:
    """A human label for ``intent``, for buttons."""
    return INTENT_LABELS.get(intent) or intent.replace("_", " ").capitalize()
