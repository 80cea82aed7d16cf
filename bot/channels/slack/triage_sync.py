"""Keeping triage cards current with changes made anywhere: the console, the CLI, a Jira webhook, a replica.

Two paths, both queuing :func:`~.triage_send.queue_card_update` (keyed by the ticket's
newest event id, so the paths, rounds and replicas agree on one update per change):

- at once, :func:`follow_notice`: the ticket notices (commented, resolved, reopened,
  waiting on the employee, created) reach it through the bot's notice router, in the
  transaction that made the change, in whatever process made it with the router
  (``serve``, the worker; the CLI when it runs with Slack configured);
- the safety net, :class:`CardSync`: every change to a ticket is a ticket event
  (``integrations.ticketing.updates.record_event``, ~20 callers with no sink), so a
  round looks for cards with newer events than they show (e.g. a claim in the console).

The update itself is sent by the notification outbox.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.channels.slack.triage_models import SlackTicketThread
from bot.channels.slack.triage_send import queue_card_update
from bot.storage.session import Database
from integrations.ticketing.models import Ticket, TicketEvent
from integrations.ticketing.service import find_ticket

log = logging.getLogger(__name__)
MAX_PER_ROUND = 200  # cards looked at per round (the rest in the next one)


def follow_notice(session: Session, notice: object) -> None:
    """A ticket's notice, in the producer's transaction: its card (if any) is updated now, not next round."""
    key = getattr(notice, "key", None)
    ticket = find_ticket(session, key) if isinstance(key, str) and key else None
    if ticket is not None:
        queue_card_update(session, ticket)


class CardSync:
    """The periodic round (a daemon thread) and :meth:`run_once` for tests and tools."""

    def __init__(self, db: Database, *, interval: float) -> None:
        self.db = db
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Queue an update for each card whose ticket changed since it was drawn; how many were queued."""
        queued = 0
        with self.db.session() as session:
            changed = session.scalars(
                select(SlackTicketThread.ticket_id)
                .join(TicketEvent, TicketEvent.ticket_id == SlackTicketThread.ticket_id)
                .where(SlackTicketThread.card_ts.is_not(None), TicketEvent.id > SlackTicketThread.shown_event_id)
                .group_by(SlackTicketThread.ticket_id).order_by(func.max(TicketEvent.id))
                .limit(MAX_PER_ROUND)).all()
            for ticket_id in changed:
                ticket = session.get(Ticket, ticket_id)
                if ticket is not None and queue_card_update(session, ticket):
                    queued += 1
        return queued

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception as exc:  # the database is away: the next round tries again
                log.warning("triage card sync failed: %s", type(exc).__name__)

    def start(self) -> None:
        """Run rounds in the background until :meth:`stop`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="slack-triage-sync", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the rounds (the current one finishes)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
