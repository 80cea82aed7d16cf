"""Channel-agnostic message and reply types: what adapters translate to and from."""

from __future__ import annotations

import enum
import re
from dataclasses import asdict, dataclass, field
from typing import Any

# Slack mrkdwn the flows write: *bold*, _italic_, ~strike~, `code`, <url|label>
_MARKUP = (
    (re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)"), r"\1 (\2)"),  # Markdown links and bold (gists)
    (re.compile(r"\*\*([^*\n]+)\*\*"), r"\1"),
    (re.compile(r"<(https?://[^|>]+)\|([^>]+)>"), r"\2 (\1)"),
    (re.compile(r"<(https?://[^>]+)>"), r"\1"),
    (re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])"), r"\1"),
    (re.compile(r"(?<![\w~])~([^~\n]+)~(?![\w~])"), r"\1"),
    (re.compile(r"`([^`\n]+)`"), r"\1"),
)


def plain_text(text: str) -> str:
    """``text`` without chat markup (``*alice*`` → ``alice``): for the terminal, JSON and Rasa."""
    for pattern, repl in _MARKUP:
        text = pattern.sub(repl, text)
    return text


class Outcome(str, enum.Enum):
    """How a turn ended (recorded in analytics)."""

    ANSWERED = "answered"          # a knowledge-base answer was given
    CLARIFY = "clarify"            # "Did you mean …?"
    DECLINED = "declined"          # honest "I don't know", ticket offered
    ESCALATED = "escalated"        # a ticket was created or queued
    ACCOUNT_ACTION = "account_action"
    INFO = "info"                  # ticket status, capabilities
    SMALLTALK = "smalltalk"
    COLLECTING = "collecting"      # a multi-turn flow asked for more
    FEEDBACK = "feedback"          # a rating was stored
    ERROR = "error"


@dataclass(frozen=True)
class Action:
    """A button press or form submission: ``flow.verb`` plus a JSON-able payload."""

    action_id: str
    value: dict[str, Any] = field(default_factory=dict)

    @property
    def flow(self) -> str:
        return self.action_id.split(".", 1)[0]


@dataclass
class Message:
    """One thing an employee said or clicked, from any channel.

    ``user_key`` is channel-qualified (``slack:U123``, ``terminal:alice``).
    ``email`` must be *verified by the channel* (Slack profile), never typed by the user.
    """

    text: str
    user_key: str
    channel: str = "terminal"
    email: str | None = None
    display_name: str | None = None
    action: Action | None = None
    is_private: bool = True  # DM / ephemeral context
    groups: frozenset[str] = frozenset()  # audiences the user belongs to (e.g. "it-staff")
    thread_key: str | None = None
    event_id: str | None = None


@dataclass
class Button:
    """A button (or link button) on a reply; ``action_id`` names the flow that handles it."""
    label: str
    action_id: str
    value: dict[str, Any] = field(default_factory=dict)
    style: str | None = None  # "primary" | "danger" | None
    url: str | None = None    # a link button (opens a page, no action)


@dataclass
class Source:
    """A cited knowledge-base article (and the section quoted)."""

    article_id: str
    title: str
    url: str
    path: str | None = None
    section: str | None = None
    review_by: str | None = None
    score: float | None = None


@dataclass
class FormRequest:
    """Ask the channel to collect fields (Slack: a modal; terminal: prompts)."""

    kind: str  # "ticket"
    submit_action: str
    title: str
    fields: dict[str, Any] = field(default_factory=dict)  # prefilled values


@dataclass
class Reply:
    """What the engine answers; adapters render it (Block Kit, rich text, JSON)."""

    text: str
    outcome: Outcome = Outcome.INFO
    intent: str | None = None
    confidence: float | None = None
    quote: str | None = None
    sources: list[Source] = field(default_factory=list)
    related: list[Source] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    form: FormRequest | None = None
    private: bool = False  # must only be shown to the requester (ephemeral / DM)
    # carries a credential (temporary password, one-time link): show once, never store or queue
    sensitive: bool = False
    ticket_key: str | None = None
    ticket_url: str | None = None
    turn_id: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, *, plain: bool = False) -> dict[str, Any]:
        """The reply as JSON-able data; ``plain``: texts without chat markup (for JSON APIs)."""
        data = asdict(self)
        if plain:
            data["text"] = plain_text(self.text)
            for button in data["buttons"]:
                button["label"] = plain_text(button["label"])
        data["outcome"] = self.outcome.value
        data["answered"] = self.outcome is Outcome.ANSWERED
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        data = dict(data)
        data.pop("answered", None)
        data["outcome"] = Outcome(data.get("outcome", "info"))
        data["sources"] = [Source(**s) for s in data.get("sources", [])]
        data["related"] = [Source(**s) for s in data.get("related", [])]
        data["buttons"] = [Button(**b) for b in data.get("buttons", [])]
        if data.get("form"):
            data["form"] = FormRequest(**data["form"])
        return cls(**data)
