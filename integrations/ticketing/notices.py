"""The ticketing library's notice port: what it reports about a ticket, as neutral events.

The library never writes chat messages. It publishes these frozen dataclasses
through a :class:`TicketNoticeSink`, inside the transaction that made the
change (so a notice is stored if and only if the change is); the bot turns
them into replies and decides where IT's triage posts go.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from integrations.ticketing.models import Ticket


@dataclass(frozen=True)
class TicketCreated:
    """A queued ticket now exists in the tracker: the requester learns its key."""

    idem_key: str
    key: str
    url: str | None
    summary: str
    requester_user_key: str
    requester_email: str | None


@dataclass(frozen=True)
class TicketCommented:
    """IT staff commented on the ticket (``comment_id`` is unique per comment)."""

    key: str
    url: str | None
    summary: str
    requester_user_key: str
    requester_email: str | None
    author: str
    body: str
    comment_id: str


@dataclass(frozen=True)
class TicketResolved:
    """The ticket was resolved; ``occurrence`` counts resolutions (a reopened ticket resolves again)."""

    key: str
    url: str | None
    summary: str
    requester_user_key: str
    requester_email: str | None
    resolution: str | None
    occurrence: int


@dataclass(frozen=True)
class TicketReopened:
    """IT reopened a resolved ticket; ``occurrence`` counts reopenings."""

    key: str
    url: str | None
    summary: str
    requester_user_key: str
    requester_email: str | None
    occurrence: int


@dataclass(frozen=True)
class TicketWaitingOnEmployee:
    """IT needs something from the employee before going on; ``occurrence`` counts such requests."""

    key: str
    url: str | None
    summary: str
    requester_user_key: str
    requester_email: str | None
    occurrence: int


@dataclass(frozen=True)
class TicketFailed:
    """The tracker refused the ticket for good; the requester is told it is saved."""

    idem_key: str
    summary: str
    requester_user_key: str
    requester_email: str | None


@dataclass(frozen=True)
class NewTicketForTriage:
    """A new ticket with its key, for IT's triage."""

    idem_key: str
    key: str
    url: str | None
    summary: str
    requester_user_key: str
    requester_email: str | None
    requester_name: str | None
    category: str | None
    urgency: str


@dataclass(frozen=True)
class TicketFailedForTriage:
    """The tracker refused a ticket for good: IT has to file it by hand."""

    idem_key: str
    summary: str
    requester_user_key: str
    requester_email: str | None
    requester_name: str | None


TicketNotice = (TicketCreated | TicketCommented | TicketResolved | TicketFailed | NewTicketForTriage
                | TicketFailedForTriage | TicketReopened | TicketWaitingOnEmployee)


class TicketNoticeSink(Protocol):
    """Receives the library's notices, inside the producer's transaction."""

    def publish(self, session: Session, notice: TicketNotice) -> None:
        """Record what ``notice`` means for the people involved (queued with ``session``)."""
        ...


# --- building notices from a ticket row ----------------------------------------------
def created(ticket: Ticket) -> TicketCreated:
    """The queued ticket ``ticket`` got its key."""
    return TicketCreated(idem_key=ticket.idem_key, key=ticket.key or "", url=ticket.url, summary=ticket.summary,
                         requester_user_key=ticket.requester_user_key, requester_email=ticket.requester_email)


def commented(ticket: Ticket, *, author: str, body: str, comment_id: str) -> TicketCommented:
    """IT commented on ``ticket``."""
    return TicketCommented(key=ticket.key or "", url=ticket.url, summary=ticket.summary,
                           requester_user_key=ticket.requester_user_key, requester_email=ticket.requester_email,
                           author=author, body=body, comment_id=comment_id)


def resolved(ticket: Ticket, *, occurrence: int) -> TicketResolved:
    """``ticket`` was resolved (for the ``occurrence``-th time)."""
    return TicketResolved(key=ticket.key or "", url=ticket.url, summary=ticket.summary,
                          requester_user_key=ticket.requester_user_key, requester_email=ticket.requester_email,
                          resolution=ticket.resolution, occurrence=occurrence)


def reopened(ticket: Ticket, *, occurrence: int) -> TicketReopened:
    """``ticket`` was reopened (for the ``occurrence``-th time)."""
    return TicketReopened(key=ticket.key or "", url=ticket.url, summary=ticket.summary,
                          requester_user_key=ticket.requester_user_key, requester_email=ticket.requester_email,
                          occurrence=occurrence)


def waiting_on_employee(ticket: Ticket, *, occurrence: int) -> TicketWaitingOnEmployee:
    """IT set ``ticket`` to wait for the employee."""
    return TicketWaitingOnEmployee(key=ticket.key or "", url=ticket.url, summary=ticket.summary,
                                   requester_user_key=ticket.requester_user_key,
                                   requester_email=ticket.requester_email, occurrence=occurrence)


def new_for_triage(ticket: Ticket) -> NewTicketForTriage | None:
    """The triage notice for a ticket that has its key (None while it has none)."""
    if not ticket.key:
        return None
    return NewTicketForTriage(idem_key=ticket.idem_key, key=ticket.key, url=ticket.url, summary=ticket.summary,
                              requester_user_key=ticket.requester_user_key,
                              requester_email=ticket.requester_email, requester_name=ticket.requester_name,
                              category=ticket.category, urgency=ticket.urgency)


def failed(ticket: Ticket) -> tuple[TicketFailed, TicketFailedForTriage]:
    """The requester's and IT's notices for a ticket the tracker refused for good."""
    return (TicketFailed(idem_key=ticket.idem_key, summary=ticket.summary,
                         requester_user_key=ticket.requester_user_key, requester_email=ticket.requester_email),
            TicketFailedForTriage(idem_key=ticket.idem_key, summary=ticket.summary,
                                  requester_user_key=ticket.requester_user_key,
                                  requester_email=ticket.requester_email, requester_name=ticket.requester_name))


__all__ = ["NewTicketForTriage", "TicketCommented", "TicketCreated", "TicketFailed", "TicketFailedForTriage",
           "TicketNotice", "TicketNoticeSink", "TicketReopened", "TicketResolved", "TicketWaitingOnEmployee",
           "commented", "created", "failed", "new_for_triage", "reopened", "resolved", "waiting_on_employee"]
