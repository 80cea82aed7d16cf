"""Retention: assistant-panel threads and ticket-emoji offers go with the inbox's old event ids, by last activity."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.slack.assistant_models import SlackAssistantThread, SlackTicketOffer
from bot.channels.slack.assistant_store import ThreadStore
from bot.channels.slack.dedupe import EventLedger
from bot.channels.slack.models import SlackProcessedEvent
from bot.channels.slack.retention import slack_purges
from bot.channels.slack.sharing import SharedReplies

DM = "D024BE91L"


def ago(hours: float) -> dt.datetime:
    return dt.datetime.utcnow() - dt.timedelta(hours=hours)


def offer(message_ts: str, state: str, last_activity: dt.datetime) -> SlackTicketOffer:
    return SlackTicketOffer(channel_id="C111", message_ts=message_ts, author="W111", reactor="W222",
                            text="printer on fire", state=state, created_at=ago(30), updated_at=last_activity)


def test_old_threads_and_offers_are_purged_and_counted_recent_ones_kept(
        migrated_db: Any, caplog: pytest.LogCaptureFixture) -> None:
    threads = ThreadStore(migrated_db)
    with migrated_db.session() as session:
        session.add_all([
            SlackAssistantThread(channel_id=DM, thread_ts="1.old", started_at=ago(30), updated_at=ago(25)),
            SlackAssistantThread(channel_id=DM, thread_ts="2.recent", started_at=ago(2), updated_at=ago(2)),
            # started long ago, asked in since: its last activity is what counts
            SlackAssistantThread(channel_id=DM, thread_ts="3.in-use", started_at=ago(30), updated_at=ago(25)),
            offer("1.offered-old", "offered", ago(25)),  # nobody answered: the click would find it expired
            offer("2.opened-old", "opened", ago(25)),
            offer("3.offered-recent", "offered", ago(23)),
            offer("4.answered-recently", "declined", ago(1)),  # offered long ago, answered within the retention
            SlackProcessedEvent(event_id="Ev0OLD", received_at=ago(25)),
        ])
    assert threads.touch(DM, "3.in-use") is True  # a message in the thread
    assert threads.touch(DM, "9.unknown") is False  # an ordinary DM thread: nothing to keep
    with migrated_db.session() as session:
        touched = session.get(SlackAssistantThread, (DM, "3.in-use")).updated_at
    assert threads.touch(DM, "3.in-use") is True  # a second message minutes later: no second write
    with migrated_db.session() as session:
        assert session.get(SlackAssistantThread, (DM, "3.in-use")).updated_at == touched

    ledger = EventLedger(migrated_db, retention_hours=24, also_purge=slack_purges(migrated_db,
                                                                                 SharedReplies(migrated_db)))
    with caplog.at_level(logging.INFO, logger="bot.channels.slack.dedupe"):
        counts = ledger.purge()

    assert counts == {"event ids": 1, "shared replies": 0, "assistant threads": 1, "ticket offers": 2}
    assert "purged Slack rows older than 24 h: 1 event ids, 0 shared replies, 1 assistant threads, " \
           "2 ticket offers" in caplog.text
    with migrated_db.session() as session:
        assert sorted(session.scalars(select(SlackAssistantThread.thread_ts))) == ["2.recent", "3.in-use"]
        assert sorted(session.scalars(select(SlackTicketOffer.message_ts))) == ["3.offered-recent",
                                                                               "4.answered-recently"]
    assert threads.is_assistant_thread(DM, "3.in-use") and not threads.is_assistant_thread(DM, "1.old")
    # a second run finds nothing more, and says nothing
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.channels.slack.dedupe"):
        assert set(ledger.purge().values()) == {0}
    assert "purged" not in caplog.text
