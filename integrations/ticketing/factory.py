"""Build the configured ticketing backend."""

from __future__ import annotations

from bot.config import Settings
from bot.storage.session import Database
from integrations.ticketing.base import TicketingBackend


def build_ticketing(settings: Settings, db: Database | None = None) -> TicketingBackend:
    """``local`` (default): the queue in the bot's database; ``jira``: Cloud or Server/DC."""
    t = settings.ticketing
    if t.backend == "jira":
        from integrations.ticketing.jira_backend import JiraBackend

        return JiraBackend(t.jira)
    from integrations.ticketing.local import LocalQueueBackend

    return LocalQueueBackend(key_prefix=t.key_prefix)
