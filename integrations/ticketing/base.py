"""The one interface every ticketing backend implements, and the values it exchanges."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.errors import TicketingError

URGENCIES = ("low", "normal", "high", "critical")
# what an employee reads next to each urgency (Slack form, chat buttons)
URGENCY_LABELS: dict[str, str] = {
    "low": "Low",
    "normal": "Normal",
    "high": "High — I can't work",
    "critical": "Critical — many people affected",
}
IDEM_LABEL_PREFIX = "helpdesk-"


class TrackerError(TicketingError):
    """The tracker (or the way to it) failed; what it answered, for retries and field fallbacks.

    ``status_code`` is None when no answer came (time-out, connection lost): the
    tracker may have acted, so a retry first looks for the result.
    """

    def __init__(self, user_message: str | None = None, *, detail: str | None = None,
                 status_code: int | None = None, retry_after: float | None = None,
                 field_errors: dict[str, str] | None = None, retryable: bool = True) -> None:
        super().__init__(user_message, detail=detail)
        self.status_code = status_code
        self.retry_after = retry_after
        self.field_errors: dict[str, str] = dict(field_errors or {})
        self.retryable = retryable


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
        """The label that finds this ticket again in the tracker (its idempotency key)."""
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
    """Local queue or Jira.

    ``immediate`` backends create tickets inside the turn's transaction (they need
    ``session``); the others are called by the outbox worker outside any
    transaction (``session`` is None) and may be slow or down.
    ``live_lookup``: ``get`` and ``tickets_of`` ask the tracker itself (it may
    know more than the bot's own record, or not answer); otherwise they read
    the bot's database.
    """

    @property
    def name(self) -> str:
        """``local`` or ``jira``; stored with each ticket."""
        ...

    @property
    def immediate(self) -> bool:
        """Whether ``create`` runs inside the turn (no outbox)."""
        ...

    @property
    def live_lookup(self) -> bool:
        """Whether status and the requester's tickets come from the tracker, live."""
        ...

    @property
    def timeout_seconds(self) -> float:
        """How long one call to the tracker may take (the outbox lease is a multiple of it)."""
        ...

    def create(self, draft: TicketDraft, *, session: Session | None = None) -> RemoteTicket:
        """Create the ticket (idempotent for the same ``draft.idem_key`` where supported)."""
        ...

    def find_by_idem(self, idem_key: str, *, session: Session | None = None) -> RemoteTicket | None:
        """The ticket already created for this idempotency key, if any."""
        ...

    def get(self, key: str, *, session: Session | None = None) -> RemoteTicket | None:
        """Current state of one ticket, or None when it does not exist."""
        ...

    def add_comment(self, key: str, body: str, *, author: str, session: Session | None = None,
                    ref: str | None = None) -> None:
        """Add a comment as ``author`` (the employee, relayed by the bot); ``ref`` makes retries detectable."""
        ...

    def has_comment(self, key: str, ref: str, *, session: Session | None = None) -> bool:
        """Whether a comment carrying ``ref`` is already on the ticket (an earlier attempt)."""
        ...

    def comments(self, key: str, *, session: Session | None = None) -> list[dict[str, Any]]:
        """The ticket's comments as the tracker stores them (``body`` at least)."""
        ...

    def tickets_of(self, email: str, *, session: Session | None = None) -> list[RemoteTicket]:
        """Tickets whose reporter is ``email`` (most recently updated first)."""
        ...

    def url_for(self, key: str) -> str | None:
        """Where a person opens the ticket in a browser (None: nowhere)."""
        ...


class TrackerAdmin(Protocol):
    """What IT staff do to a ticket in a remote tracker (Jira) from `helpdesk tickets`."""

    def add_internal_note(self, key: str, body: str, *, author: str) -> None:
        """An IT-only comment (never shown to the employee)."""
        ...

    def set_fields(self, key: str, fields: dict[str, Any]) -> None:
        """Change fields (priority, labels)."""
        ...

    def link(self, key: str, other: str, *, duplicate: bool) -> None:
        """Link ``key`` to ``other`` (as its duplicate, or as related)."""
        ...

    def transition(self, key: str, name: str) -> None:
        """Move the issue through its workflow by transition name."""
        ...


__all__ = ["IDEM_LABEL_PREFIX", "TrackerAdmin", "URGENCIES", "URGENCY_LABELS", "RemoteTicket", "TicketDraft",
           "TicketingBackend", "TrackerError"]
