"""Ticketing: one backend interface, the local queue (embedded default) and Jira."""

from integrations.ticketing.base import RemoteTicket, TicketDraft, TicketingBackend
from integrations.ticketing.factory import build_ticketing

__all__ = ["RemoteTicket", "TicketDraft", "TicketingBackend", "build_ticketing"]
