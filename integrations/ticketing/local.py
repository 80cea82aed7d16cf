"""The embedded default: tickets live in the bot's own database, worked with `helpdesk tickets`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.errors import TicketingError
from integrations.ticketing.base import RemoteTicket, TicketDraft
from integrations.ticketing.models import Ticket, TicketComment


def to_remote(ticket: Ticket) -> RemoteTicket:
    """Our ticket row in the backend-neutral shape."""
    return RemoteTicket(key=ticket.key or "", summary=ticket.summary, status=ticket.status,
                        status_category=ticket.status_category, assignee=ticket.assignee,
                        updated=ticket.updated_at, resolution=ticket.resolution, url=ticket.url,
                        reporter_email=ticket.requester_email)


def _need(session: Session | None) -> Session:
    if session is None:
        raise TicketingError(detail="the local queue works inside the turn's transaction: no session given")
    return session


class LocalQueueBackend:
    """Creates tickets in the same transaction as the conversation turn: keys are immediate."""

    name = "local"
    immediate = True
    live_lookup = False  # the bot's own table is the tracker
    timeout_seconds = 0.0

    def __init__(self, key_prefix: str = "IT") -> None:
        self.key_prefix = key_prefix

    def create(self, draft: TicketDraft, *, session: Session | None = None) -> RemoteTicket:
        """Give the ticket row written for ``draft`` its key."""
        session = _need(session)
        ticket = session.scalars(select(Ticket).where(Ticket.idem_key == draft.idem_key)).first()
        if ticket is None:
            raise TicketingError(detail=f"no ticket row for {draft.idem_key}")
        if ticket.key is None:
            session.flush()
            ticket.key = f"{self.key_prefix}-{ticket.id}"
            ticket.status, ticket.status_category = "Open", "open"
        return to_remote(ticket)

    def find_by_idem(self, idem_key: str, *, session: Session | None = None) -> RemoteTicket | None:
        """The ticket with this idempotency key, once it has a key."""
        ticket = _need(session).scalars(select(Ticket).where(Ticket.idem_key == idem_key)).first()
        return to_remote(ticket) if ticket is not None and ticket.key else None

    def get(self, key: str, *, session: Session | None = None) -> RemoteTicket | None:
        """One ticket by key."""
        ticket = _need(session).scalars(select(Ticket).where(Ticket.key == key.upper())).first()
        return to_remote(ticket) if ticket is not None else None

    def add_comment(self, key: str, body: str, *, author: str, session: Session | None = None,
                    ref: str | None = None) -> None:
        """Store the employee's comment on the ticket."""
        session = _need(session)
        ticket = session.scalars(select(Ticket).where(Ticket.key == key.upper())).first()
        if ticket is None:
            raise TicketingError(f"Ticket {key} does not exist.")
        session.add(TicketComment(ticket_id=ticket.id, author=author, body=body, from_requester=True))

    def has_comment(self, key: str, ref: str, *, session: Session | None = None) -> bool:
        """Whether a comment mentions ``(ref <ref>)`` (local comments are added once, in the turn)."""
        return any(f"(ref {ref})" in str(c.get("body") or "") for c in self.comments(key, session=session))

    def comments(self, key: str, *, session: Session | None = None) -> list[dict[str, Any]]:
        """The ticket's comments, oldest first."""
        session = _need(session)
        rows = session.scalars(select(TicketComment).join(Ticket, Ticket.id == TicketComment.ticket_id)
                               .where(Ticket.key == key.upper()).order_by(TicketComment.id)).all()
        return [{"id": c.id, "author": c.author, "body": c.body} for c in rows]

    def tickets_of(self, email: str, *, session: Session | None = None) -> list[RemoteTicket]:
        """Tickets reported with this e-mail, most recently updated first."""
        rows = _need(session).scalars(select(Ticket).where(
            or_(Ticket.requester_email == email), Ticket.key.is_not(None))
            .order_by(Ticket.updated_at.desc())).all()
        return [to_remote(t) for t in rows]

    def url_for(self, key: str) -> str | None:
        """Local tickets have no web page."""
        return None
