"""The Slack rows forgotten with the inbox's old event ids, after ``slack.event_retention_hours``.

:meth:`~bot.channels.slack.dedupe.EventLedger.purge` runs on its schedule (every
few minutes, from any replica) and hands each purge here the same cutoff. A row
goes when its last activity is older than the cutoff, whatever its state, as the
inbox's own rows do (a ``pending`` delivery is given up on within minutes, so
nothing that old is still being worked on):

- "Share in channel" replies nobody shared (:class:`~.sharing.SharedReplies`), by creation;
- assistant-panel threads (``slack_assistant_thread``), by ``updated_at``: started,
  context changed, or a message in the thread. A message in a thread forgotten
  meanwhile is answered as an ordinary DM in that thread (no status, title or
  native feedback);
- ticket-emoji offers (``slack_ticket_offer``), by ``updated_at``: offered, or the
  author's answer. A click on a forgotten offer is told "That offer has expired";
  a new ticket emoji on that message offers again.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CursorResult, delete
from sqlalchemy.orm import InstrumentedAttribute

from bot.channels.slack.assistant_models import SlackAssistantThread, SlackTicketOffer
from bot.channels.slack.dedupe import Purge
from bot.channels.slack.sharing import SharedReplies
from bot.storage.session import Database


def _older_than(db: Database, column: InstrumentedAttribute[dt.datetime]) -> Purge:
    """A purge deleting the rows of ``column``'s table whose ``column`` is before the cutoff."""

    def purge(cutoff: dt.datetime) -> int:
        with db.session() as session:
            gone = session.execute(delete(column.class_).where(column < cutoff))
        return gone.rowcount if isinstance(gone, CursorResult) else 0

    return purge


def slack_purges(db: Database, shared: SharedReplies) -> dict[str, Purge]:
    """Every Slack table purged with the inbox, by the name its count has in the purge's summary."""
    return {"shared replies": shared.purge,
            "assistant threads": _older_than(db, SlackAssistantThread.updated_at),
            "ticket offers": _older_than(db, SlackTicketOffer.updated_at)}


__all__ = ["slack_purges"]
