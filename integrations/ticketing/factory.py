"""Build the configured ticketing backend."""

from __future__ import annotations

from integrations.ticketing.base import TicketingBackend
from integrations.ticketing.settings import TicketingSettings


def build_ticketing(settings: TicketingSettings) -> TicketingBackend:
    """``local`` (default): the queue in the bot's database; ``jira``: Cloud or Server/DC."""
    if settings.backend == "jira":
        from integrations.ticketing.jira_backend import JiraBackend

        return JiraBackend(settings.jira)
    from integrations.ticketing.local import LocalQueueBackend

    return LocalQueueBackend(key_prefix=settings.key_prefix)
