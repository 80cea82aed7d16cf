"""What the IT staff ticket pages show: the queue's filters, one ticket's parts and its outbox state.

Read-only helpers for bot/console/pages/tickets.py. The ticket's context (the employee's
words, the requester's directory details, the articles already tried, the redacted
transcript) is what the bot stored in the ticket's description when it opened it
(integrations/ticketing/drafting.py ``describe``); it is split here into its sections.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import InvalidInputError
from bot.storage.base import utcnow
from integrations.ticketing import queue
from integrations.ticketing.base import URGENCIES
from integrations.ticketing.models import Ticket, TicketOutbox

PER_PAGE = 25
AGES = {"": ("any age", None, None), "1d": ("less than a day", None, 1), "7d": ("less than a week", None, 7),
        "gt1d": ("older than a day", 1, None), "gt3d": ("older than 3 days", 3, None),
        "gt7d": ("older than a week", 7, None), "gt30d": ("older than 30 days", 30, None)}
_HEADING = re.compile(r"^\*([^*\n]{1,80})\*$")
_TRANSCRIPT = re.compile(r"^\[([^\]]*)\] ([^:]{1,80}): (.*)$")
_LINKED = re.compile(r"^- (.*) \((https?://[^\s()]+)\)$")


@dataclass
class QueueFilters:
    """The queue's filters and sort, as read from the query string (every value validated)."""

    status: str = "open"
    urgency: str = ""
    category: str = ""
    assignee: str = ""
    age: str = ""
    sort: str = "newest"
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str], *, me: str) -> QueueFilters:
        """Filters from query parameters; "me" as assignee stands for the signed-in person."""
        try:
            page = max(1, int(params.get("page") or 1))
        except ValueError:
            raise InvalidInputError("page must be a number.") from None
        age = params.get("age", "")
        if age not in AGES:
            raise InvalidInputError("age must be one of the offered choices.")
        assignee = (params.get("assignee") or "").strip()[:200]
        return cls(status=params.get("status") or "open", urgency=params.get("urgency", ""),
                   category=(params.get("category") or "").strip()[:100],
                   assignee=me if assignee == "me" else assignee, age=age,
                   sort=params.get("sort") or "newest", page=page)

    def query(self, **changes: Any) -> str:
        """This view's query string with ``changes`` (e.g. another page)."""
        values = {**self.__dict__, **changes}
        return urlencode({k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)})


@dataclass
class QueuePage:
    """One page of the queue."""

    rows: list[dict[str, Any]]
    total: int
    filters: QueueFilters
    categories: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """How many pages the filtered queue has (at least one)."""
        return max(1, -(-self.total // PER_PAGE))


def queue_page(session: Session, filters: QueueFilters) -> QueuePage:
    """The tickets matching ``filters`` (one page) and the values the filter menus offer."""
    _label, older, newer = AGES[filters.age]
    rows, total = queue.search(session, status=filters.status, urgency=filters.urgency or None,
                               category=filters.category or None, assignee=filters.assignee or None,
                               min_age_days=older, max_age_days=newer, sort=filters.sort,
                               offset=(filters.page - 1) * PER_PAGE, limit=PER_PAGE)
    categories = sorted(c for c in session.scalars(select(Ticket.category).distinct()) if c)
    assignees = sorted(a for a in session.scalars(select(Ticket.assignee).distinct()) if a)
    return QueuePage(rows=rows, total=total, filters=filters, categories=categories, assignees=assignees)


def age(when: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long ago, in the largest whole unit ("3 d", "5 h", "12 min", "<1 min")."""
    if when is None:
        return "-"
    seconds = int(((now or utcnow()) - when).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{seconds // size} {unit}"
    return "<1 min"


@dataclass
class Section:
    """One part of the stored description: its heading and lines (transcript lines split up)."""

    title: str
    lines: list[str] = field(default_factory=list)
    transcript: list[tuple[str, str, str]] = field(default_factory=list)  # (time, speaker, text)
    links: list[tuple[str, str]] = field(default_factory=list)  # (title, url) for "- title (url)" lines
    items: list[str] = field(default_factory=list)  # other "- …" lines


def sections(description: str) -> list[Section]:
    """The description split at its ``*Heading*`` lines (text before the first heading: "Description")."""
    parts: list[Section] = []
    for raw in description.splitlines():
        line = raw.rstrip()
        heading = _HEADING.match(line.strip())
        if heading:
            parts.append(Section(heading.group(1)))
            continue
        if not parts:
            if not line.strip():
                continue
            parts.append(Section("Description"))
        if not line.strip() or line.startswith("Opened by the helpdesk bot"):
            continue
        said = _TRANSCRIPT.match(line)
        linked = _LINKED.match(line)
        if said and "conversation" in parts[-1].title.lower():
            parts[-1].transcript.append((said.group(1), said.group(2), said.group(3)))
        elif linked:
            parts[-1].links.append((linked.group(1), linked.group(2)))
        elif line.startswith("- "):
            parts[-1].items.append(line[2:])
        else:
            parts[-1].lines.append(line)
    return [p for p in parts if p.lines or p.transcript or p.links or p.items]


def outbox_state(session: Session, key: str) -> list[dict[str, Any]]:
    """The ticket's outbox rows (create, comments), oldest first: status, attempts, next retry, error."""
    rows = session.scalars(select(TicketOutbox).join(Ticket, Ticket.id == TicketOutbox.ticket_id)
                           .where(Ticket.key == key.upper()).order_by(TicketOutbox.id)).all()
    return [{"id": o.id, "kind": o.kind, "status": "delivered" if o.status == "done" else o.status,
             "attempts": o.attempts, "next_attempt_at": o.next_attempt_at if o.status == "pending" else None,
             "delivered_at": o.delivered_at, "last_error": o.last_error} for o in rows]


URGENCY_CHOICES = URGENCIES
