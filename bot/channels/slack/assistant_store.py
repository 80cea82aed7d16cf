"""Assistant-panel threads in our database: bolt's thread-context store, and "is this an assistant thread?".

bolt's default store keeps the context in message metadata (extra Web API calls,
and only what the latest bot message carries); here it is one row per thread
(:class:`~bot.channels.slack.assistant_models.SlackAssistantThread`), shared by
every replica. The title is claimed with a guarded update, so the first question
titles a thread once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_bolt.context.assistant.thread_context import AssistantThreadContext
from slack_bolt.context.assistant.thread_context_store.store import AssistantThreadContextStore
from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError

from bot.channels.slack.assistant_models import SlackAssistantThread
from bot.storage.base import utcnow
from bot.storage.session import Database

CONTEXT_KEYS = ("channel_id", "team_id", "enterprise_id")  # what Slack sends; nothing else is kept
ID_LENGTH = 32
# A panel thread's last activity is written at most this often (slack.event_retention_hours is >= 1).
TOUCH_EVERY = dt.timedelta(minutes=10)


def clean_context(context: Any) -> dict[str, str] | None:
    """The thread context Slack sent, as short strings (None when there is no channel in it)."""
    if not isinstance(context, dict):
        return None
    kept = {k: v[:ID_LENGTH] for k in CONTEXT_KEYS if isinstance(v := context.get(k), str) and v}
    return kept if "channel_id" in kept else None


class ThreadStore(AssistantThreadContextStore):
    """The assistant threads we know; bolt's ``AssistantThreadContextStore`` over our database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def started(self, *, channel_id: str, thread_ts: str, user_id: str | None, context: Any = None) -> bool:
        """Remember a new thread; False when it was known already (a replayed start)."""
        row = SlackAssistantThread(channel_id=channel_id[:ID_LENGTH], thread_ts=thread_ts[:ID_LENGTH],
                                   user_id=(user_id or "")[:ID_LENGTH] or None, context=clean_context(context))
        try:
            with self.db.session() as session:
                session.add(row)
        except IntegrityError:
            return False
        return True

    # --- bolt's AssistantThreadContextStore -------------------------------------------
    def save(self, *, channel_id: str, thread_ts: str, context: dict[str, str]) -> None:
        """Keep the newest context of a thread (a thread we have not seen yet is recorded too)."""
        cleaned = clean_context(context)
        with self.db.session() as session:
            row = session.get(SlackAssistantThread, (channel_id[:ID_LENGTH], thread_ts[:ID_LENGTH]))
            if row is not None:
                row.context, row.updated_at = cleaned, utcnow()
                return
        if not self.started(channel_id=channel_id, thread_ts=thread_ts, user_id=None, context=context):
            self.save(channel_id=channel_id, thread_ts=thread_ts, context=context)  # lost a race: update

    def find(self, *, channel_id: str, thread_ts: str) -> AssistantThreadContext | None:
        """The thread's context as bolt hands it to listeners (None: unknown thread or no context)."""
        with self.db.session() as session:
            row = session.get(SlackAssistantThread, (channel_id[:ID_LENGTH], thread_ts[:ID_LENGTH]))
            context = dict(row.context) if row is not None and row.context else None
        return AssistantThreadContext(context) if context else None

    # --- what the channel asks ---------------------------------------------------------
    def is_assistant_thread(self, channel_id: str | None, thread_ts: str | None) -> bool:
        """Whether this DM thread was opened in the assistant panel."""
        if not channel_id or not thread_ts:
            return False
        with self.db.session() as session:
            return session.get(SlackAssistantThread, (channel_id[:ID_LENGTH], thread_ts[:ID_LENGTH])) is not None

    def touch(self, channel_id: str | None, thread_ts: str | None) -> bool:
        """Note activity in a panel thread (kept for the retention from now); False: not a panel thread.

        A read per message; the write only when the last one is ``TOUCH_EVERY`` old, so a busy thread
        does not take SQLite's write lock on every message (the retention is an hour at the least).
        """
        if not channel_id or not thread_ts:
            return False
        with self.db.session() as session:
            row = session.get(SlackAssistantThread, (channel_id[:ID_LENGTH], thread_ts[:ID_LENGTH]))
            if row is None:
                return False
            now = utcnow()
            if row.updated_at is None or now - row.updated_at >= TOUCH_EVERY:
                row.updated_at = now
        return True

    def claim_title(self, channel_id: str, thread_ts: str) -> bool:
        """True exactly once per thread: the caller sets its title (from the first question)."""
        with self.db.session() as session:
            done = session.execute(update(SlackAssistantThread)
                                   .where(SlackAssistantThread.channel_id == channel_id[:ID_LENGTH],
                                          SlackAssistantThread.thread_ts == thread_ts[:ID_LENGTH],
                                          SlackAssistantThread.titled.is_(False))
                                   .values(titled=True, updated_at=utcnow()))
        return isinstance(done, CursorResult) and done.rowcount == 1
