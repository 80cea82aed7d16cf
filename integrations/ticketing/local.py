"""The embedded default: tickets live in the bot's own database, worked with `helpdesk tickets`."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.errors import TicketingError
from integrations.ticketing.base import RemoteTicket, TicketDraft
from integrations.ticketing.models import Ticket, TicketComment


def to_remote(ticket: Ticket) -> RemoteTicket:
    return RemoteTicket(key=ticket.key or "", summary=ticket.summary, status=ticket.status,
                        status_category=ticket.status_category, assignee=ticket.assignee,
                        updated=ticket.updated_at, resolution=ticket.resolution, url=ticket.url,
                        reporter_email=ticket.requester_email)


class LocalQueueBackend:
    """Creates tickets in the same transaction as the conversation turn: keys are immediate."""

    name = "local"
    immediate = True

    def __init__(self, key_prefix: str = "IT") -> None:
        self.key_prefix = key_prefix

    def create(self, draft: TicketDraft, *, session: Session) -> RemoteTicket:
        ticket = session.scalars(select(Ticket).where(Ticket.idem_key == draft.idem_key)).first()
        if ticket is None:
            raise TicketingError(detail=f"no ticket row for {draft.idem_key}")
        if ticket.key is None:
            session.flush()
            ticket.key = f"{self.key_prefix}-{ticket.id}"
            ticket.status, ticket.status_category = "Open", "open"
        return to_remote(ticket)

    def find_by_idem(self, idem_key: str, *, session: Session) -> RemoteTicket | None:
        ticket = session.scalars(select(Ticket).where(Ticket.idem_key == idem_key)).first()
        return to_remote(ticket) if ticket is not None and ticket.key else None

    def get(self, key: str, *, session: Session) -> RemoteTicket | None:
        ticket = session.scalars(select(Ticket).where(Ticket.key == key.upper())).first()
        return to_remote(ticket) if ticket is not None else None

    def add_comment(self, key: str, body: str, *, author: str, session: Session) -> None:
        ticket = session.scalars(select(Ticket).where(Ticket.key == key.upper())).first()
        if ticket is None:
            raise TicketingError(f"Ticket {key} does not exist.")
        session.add(TicketComment(ticket_id=ticket.id, author=author, body=body, from_requester=True))

    def tickets_of(self, email: str, *, session: Session) -> list[RemoteTicket]:
        rows = session.scalars(select(Ticket).where(
            or_(Ticket.requester_email == email), Ticket.key.is_not(None))
            .order_by(Ticket.updated_at.desc())).all()
        return [to_remote(t) for t in rows]

    def url_for(self, key: str) -> str | None:
        return None
