"""The "Share in channel" store: kept when shown ephemerally, taken once by its owner, purged with the ledger."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.channels.slack.blocks import SHARE_ACTION
from bot.channels.slack.dedupe import EventLedger
from bot.channels.slack.models import SlackSharedReply
from bot.channels.slack.sharing import SharedReplies
from bot.messages import Outcome, Reply


def test_a_kept_reply_is_shared_once_and_only_by_its_owner(migrated_db: Any) -> None:
    shared = SharedReplies(migrated_db)
    button = shared.keep(Reply(text="Connect like this.", outcome=Outcome.ANSWERED, turn_id="turn-1"),
                         user_id="W111")
    assert button.action_id == SHARE_ACTION and button.value == {"turn": "turn-1"}
    assert shared.take("turn-1", user_id="W222") is None  # someone else's answer
    taken = shared.take("turn-1", user_id="W111")
    assert taken is not None and taken.text == "Connect like this."
    assert shared.take("turn-1", user_id="W111") is None  # shared once


def test_unshared_replies_are_forgotten_with_old_event_ids(migrated_db: Any) -> None:
    shared = SharedReplies(migrated_db)
    shared.keep(Reply(text="recent", outcome=Outcome.ANSWERED, turn_id="turn-new"), user_id="W111")
    with migrated_db.session() as session:
        session.add(SlackSharedReply(turn_id="turn-old", user_id="W111", reply=Reply(text="old").to_dict(),
                                     created_at=dt.datetime.utcnow() - dt.timedelta(hours=25)))
    EventLedger(migrated_db, retention_hours=24, also_purge={"shared replies": shared.purge}).purge()
    assert shared.take("turn-old", user_id="W111") is None
    assert shared.take("turn-new", user_id="W111") is not None
