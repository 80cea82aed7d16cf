"""Ticketing: one backend interface, the local queue (embedded default) and Jira.

The library reports what happens to a ticket through its notice port
(:mod:`integrations.ticketing.notices`); it reads only its own settings section.
"""

from integrations.ticketing.base import (
    URGENCIES,
    URGENCY_LABELS,
    RemoteTicket,
    TicketDraft,
    TicketingBackend,
    TrackerError,
)
from integrations.ticketing.factory import build_ticketing
from integrations.ticketing.notices import TicketNotice, TicketNoticeSink
from integrations.ticketing.settings import JiraSettings, TicketingSettings

__all__ = ["URGENCIES", "URGENCY_LABELS", "JiraSettings", "RemoteTicket", "TicketDraft", "TicketNotice",
           "TicketNoticeSink", "TicketingBackend", "TicketingSettings", "TrackerError", "build_ticketing"]
