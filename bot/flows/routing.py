"""Which flow handles which intent, how each is called in a button, and the explicit requests that win.

Intents not listed in :data:`INTENT_FLOWS` are knowledge questions: the
knowledge base decides what answers them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from intents.api import OUT_OF_SCOPE

if TYPE_CHECKING:
    from intents.api import ParseResult
    from intents.settings import NluSettings

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

# Intents that *do* something (or start a form): the only ones a "Did you mean …?" ever offers.
ACTION_INTENTS = frozenset({"password_reset", "account_unlock", "open_ticket", "talk_to_human",
                            "ticket_status", "my_tickets"})
# What a multi-turn form is for: a message with one of these intents continues it, any other
# confident intent is a new request.
FORM_PURPOSES: dict[str, frozenset[str]] = {"ticket": frozenset({"open_ticket", "talk_to_human"})}

# Human-readable names, for buttons and anywhere an intent is shown to a person.
INTENT_LABELS: dict[str, str] = {
    "password_reset": "Reset my password",
    "account_unlock": "Unlock my account",
    "ticket_status": "Check a ticket's status",
    "my_tickets": "List my tickets",
    "open_ticket": "Open a ticket",
    "talk_to_human": "Talk to a person in IT",
    "bot_capabilities": "What can you do?",
    "greet": "Say hello",
    "goodbye": "Say goodbye",
    "thanks": "Say thanks",
    "affirm": "Yes",
    "deny": "No",
    "vpn_issue": "A VPN / remote access problem",
    "wifi_issue": "A Wi-Fi problem",
    "email_on_phone": "E-mail on my phone",
    "mfa_device": "Sign-in codes (MFA)",
    "software_request": "Installing software",
    "hardware_problem": "A broken or faulty device",
    "printer_issue": "A printer problem",
    "access_request": "Access to a system or folder",
    "laptop_request": "Getting a new laptop",
    "phishing_report": "A suspicious e-mail",
    "email_problem": "An e-mail problem",
    "video_call_issue": "A video call problem",
    "file_restore": "Getting a deleted file back",
    "new_hire_setup": "Setting up a new starter",
    "out_of_scope": "Something else",
}

# "… can you open a ticket", "raise a ticket for this", "I want to talk to a human": the request
# for a person wins over an answer. Group "ask" is the request itself, removed from the summary.
_POLITE = r"(?:(?:please|pls|so|and|then|just|now)\s+)*(?:(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+)?)?"
_TICKET = (r"(?:open|create|raise|file|log|submit|make|start)\s+(?:me\s+)?(?:a|an|one)?\s*(?:new\s+)?"
           r"(?:support\s+|it\s+|urgent\s+|helpdesk\s+)?(?:ticket|case|incident)(?:\s+(?:for|about)\s+(?:this|it|me))*")
_HUMAN = (r"(?:talk|speak|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|someone\s+(?:in|from)\s+)?"
          r"(?:human|person|real person|agent|technician|someone|somebody|it|it staff|support)(?:\s+in\s+it)?"
          r"|(?:get|need|want)\s+(?:a\s+)?(?:human|real person|person from it)")
_ASK = re.compile(
    rf"(?P<ask>[\s,.;:!?-]*\b(?:i\s+(?:would\s+like|'d\s+like|want|need)\s+(?:you\s+)?to\s+|{_POLITE})"
    rf"(?:{_TICKET}|{_HUMAN})\b(?:\s+(?:please|pls|for me|asap|now))*\s*[?.!]*)",
    re.I)
# "what's the phone number for the service desk", "how do I open a ticket?": a question for information,
# answered from the knowledge base when it can, even if the intent model reads a request for a person
_INFO = re.compile(r"^\W*(?:(?:hi|hey|hello)\b\W*)?(?:what|whats|where|who|whom|which|how|"
                   r"when\s+(?:is|are|does|do|will|can))\b", re.I)
TICKET_INTENTS = frozenset({"open_ticket", "talk_to_human"})
_HOW = re.compile(r"\b(?:how|where|when|why|what)\b(?:\s+\w+){0,3}\s*$|\b(?:how|where)\s+(?:do|can|to|should)\b", re.I)
_WORD = re.compile(r"[\w'’-]+")


def explicit_request(text: str) -> tuple[str, str] | None:
    """``("ticket" | "human", the rest of the message)`` when it asks for a ticket or a person, else None.

    The rest is what the employee said about the problem, without the request itself: it
    becomes the ticket's summary ("" when they only asked for a ticket).
    """
    match = _ASK.search(text)
    if match is None or _HOW.search(text[:match.start()] + " " + match.group("ask")):
        return None  # "how do I open a ticket?" is a question about tickets
    kind = "human" if re.search(r"\b(?:talk|speak|chat|human|person)\b", match.group("ask"), re.I) else "ticket"
    rest = (text[:match.start()] + " " + text[match.end():]).strip()
    rest = re.sub(r"^(?:hi|hello|hey|please|pls)\b[\s,!.]*", "", rest, flags=re.I)
    rest = re.sub(r"^(?:about|because|regarding|re|for)\b[\s:,-]*", "", rest, flags=re.I)
    rest = re.sub(r"[\s,;:!-]*(?:and|so|but|,)?[\s,;:!-]*$", "", rest, flags=re.I).strip(" ,;:-")
    if len(_WORD.findall(rest)) < 3:
        rest = ""
    return kind, rest[:1].upper() + rest[1:]


def asks_for_information(text: str) -> bool:
    """Whether ``text`` is a wh-question ("what's the number of the service desk?"), not a request."""
    return bool(_INFO.search(text))


def confident(parse: ParseResult | None, nlu: NluSettings) -> bool:
    """The one rule for "the intent model is sure": in scope, and at least ``nlu.high_confidence``."""
    if parse is None or parse.out_of_scope or parse.intent.name == OUT_OF_SCOPE:
        return False
    return parse.intent.confidence >= nlu.high_confidence


def flow_for(intent: str) -> str:
    """The flow that handles ``intent`` (the answer flow for knowledge questions)."""
    return INTENT_FLOWS.get(intent, DEFAULT_FLOW)


def label_for(intent: str) -> str:
    """A human label for ``intent``, for buttons (never the raw intent name)."""
    return INTENT_LABELS.get(intent) or "Something about " + intent.replace("_", " ")


def is_action(intent: str) -> bool:
    """Whether ``intent`` asks the bot to do something (reset, unlock, ticket, status)."""
    return intent in ACTION_INTENTS
