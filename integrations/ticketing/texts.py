"""Plain-words texts of the ticket flow: status in words, "how long ago", request parsing."""

from __future__ import annotations

import datetime as dt
import re

from bot.storage.base import utcnow

_FILLER = sorted("""please|pls|can you|could you|would you|i want to|i'd like to|i would like to|i need to|
i need|i want|let me|open|create|raise|file|log|submit|make|a|an|the|new|ticket|support|request|for me|
talk to|speak to|speak with|talk with|chat with|human|person|someone|somebody|agent|in it|it staff|
a real person|helpdesk|help desk|me|i|to|with|get|connect|real|live""".replace("\n", "").split("|"),
                 key=len, reverse=True)
_TICKET_WORDS = re.compile(r"\b(" + "|".join(re.escape(w) for w in _FILLER) + r")\b", re.I)
_LEADING_REQUEST = re.compile(
    r"^(?:(?:please|pls|hi|hello|hey)[,!]?\s+)*(?:(?:can|could|would) you\s+|i(?:'d| would)? (?:like|want|need) to\s+)?"
    r"(?:please\s+)?(?:open|create|raise|file|log|submit|make)\s+(?:me\s+)?(?:a\s+|an\s+)?(?:new\s+)?"
    r"(?:support\s+)?(?:ticket|request)(?:\s+for me)?\s*(?:about|for|because|regarding|re|:|-|,)?\s*",
    re.I)
URGENCY_WORDS = {"low": "low", "minor": "low", "whenever": "low", "normal": "normal", "medium": "normal",
                 "high": "high", "urgent": "high", "asap": "high", "critical": "critical",
                 "blocker": "critical", "emergency": "critical", "outage": "critical"}


def ago(when: dt.datetime | None) -> str:
    """"3 hours ago", "just now" ("unknown" for None)."""
    if when is None:
        return "unknown"
    secs = max(0, int((utcnow() - when).total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if secs >= size:
            n = secs // size
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"


WAITING_ON_EMPLOYEE = "Waiting on employee"
# what an employee reads for a tracker's status names (lower case; a status not listed reads "with IT")
_WAITING_ON_YOU = ("waiting on employee", "waiting for customer", "waiting for reporter", "pending customer",
                   "waiting for support user", "awaiting your reply")
_WORKING = ("progress", "working", "review", "investigat", "pending", "escalat")
STATUS_LABELS = {"queued": "Being filed", "open": "Open", "in progress": "In progress",
                 WAITING_ON_EMPLOYEE.lower(): "Waiting for your reply", "resolved": "Resolved", "done": "Resolved"}


def status_label(status: str, category: str) -> str:
    """A short human label for a status, for lists and tables (never a raw workflow id)."""
    if category == "queued":
        return "Being filed"
    if category == "done":
        return "Resolved"
    low = status.strip().lower()
    if low in STATUS_LABELS:
        return STATUS_LABELS[low]
    if any(w in low for w in _WAITING_ON_YOU):
        return "Waiting for your reply"
    return "In progress" if any(w in low for w in _WORKING) else "Open"


def status_words(status: str, category: str, assignee: str | None, resolution: str | None) -> str:
    """A ticket's state in plain words, as an employee reads it (no raw status names in brackets)."""
    if category == "queued":
        return "waiting to be filed in Jira (you'll get its key here shortly)"
    if category == "done":
        plain = resolution and resolution.strip().lower() not in ("done", "resolved", "fixed")
        return f"resolved ({resolution})" if plain else "resolved"
    label = status_label(status, category)
    if label == "Waiting for your reply":
        who = assignee or "IT"
        return f"waiting for your reply ({who} asked you something: reply here and I'll add it to the ticket)"
    if assignee and label == "In progress":
        return f"being worked on by {assignee}"
    if assignee:
        return f"assigned to {assignee}"
    if label == "In progress":
        return "being worked on by IT"
    return "open, waiting for IT to pick it up"


def summary_from_text(text: str) -> str:
    """The problem stated with the request ("open a ticket: my screen is cracked"), else ""."""
    rest = _TICKET_WORDS.sub(" ", text)
    rest = re.sub(r"^[\s,.:;!-]*(about|because|regarding|re)?\b", "", rest, flags=re.I)
    if len(re.findall(r"[\w'’-]+", rest)) < 3:
        return ""
    stated = _LEADING_REQUEST.sub("", " ".join(text.split()))
    return stated[:1].upper() + stated[1:]


def urgency_from(text: str) -> str | None:
    """The urgency an employee's answer names ("asap" → high), or None."""
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in URGENCY_WORDS:
            return URGENCY_WORDS[word]
    return None
