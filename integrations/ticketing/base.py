"""The one interface every ticketing backend implements, and the values it exchanges."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

URGENCIES = ("low", "normal", "high", "critical")
IDEM_LABEL_PREFIX = "helpdesk-"


@dataclass
class TicketDraft:
    """A ticket ready to send: everything IT staff will see."""

    idem_key: str
    summary: str
    description: str
    project: str
    issue_type: str
    priority: str | None = None
    components: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    requester_email: str | None = None
    requester_name: str | None = None

    @property
    def idem_label(self) -> str:
        return self.idem_key


@dataclass
class RemoteTicket:
    """A ticket as the tracker reports it (plain values, backend-neutral)."""

    key: str
    summary: str = ""
    status: str = "Open"
    status_category: str = "open"  # open | done
    assignee: str | None = None
    updated: dt.datetime | None = None
    resolution: str | None = None
    url: str | None = None
    remote_id: str | None = None
    reporter_email: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


class TicketingBackend(Protocol):
    """Local queue or Jira. ``immediate`` backends create tickets inside the turn's transaction."""

    name: str
    immediate: bool

    def create(self, draft: TicketDraft, *, session: Session) -> RemoteTicket:
        """Create the ticket (idempotent for the same ``draft.idem_key`` where supported)."""
        ...

    def find_by_idem(self, idem_key: str, *, session: Session) -> RemoteTicket | None:
        """The ticket already created for this idempotency key, if any."""
        ...

    def get(self, key: str, *, session: Session) -> RemoteTicket | None:
        """Current state of one ticket, or None when it does not exist."""
        ...

    def add_comment(self, key: str, body: str, *, author: str, session: Session) -> None:
        """Add a comment as ``author`` (the employee, relayed by the bot)."""
        ...

    def tickets_of(self, email: str, *, session: Session) -> list[RemoteTicket]:
        """Tickets whose reporter is ``email`` (most recently updated first)."""
        ...

    def url_for(self, key: str) -> str | None:
        ...
