"""Duplicate warning with the sentence encoder: paraphrases match, look-alike wording does not."""

from __future__ import annotations

import pytest

from bot.messages import Outcome
from tests.ticketing.conftest import press


@pytest.mark.slow
def test_embedding_duplicate_check(make_settings, sqlite_url):
    from bot.services import Services
    from bot.storage import migrate
    from bot.storage.session import Database

    db = Database(sqlite_url)
    migrate.upgrade(db)
    s = Services(make_settings(sqlite_url, ticketing={"duplicate_method": "embedding"}), db)
    first = press(s, "alice", "ticket.submit", {"summary": "VPN drops every ten minutes",
                                                "details": "GlobalProtect error 812"})
    assert first.ticket_key == "IT-1"
    # same problem, different words (few shared words): still offered as a duplicate
    para = press(s, "alice", "ticket.submit", {"summary": "VPN disconnects all the time",
                                               "details": "keeps dropping my connection"})
    assert para.outcome is Outcome.COLLECTING and "IT-1" in para.text
    # shares many words ("drops every ten minutes") but is another problem: created
    wifi = press(s, "alice", "ticket.submit", {"summary": "Wi-Fi drops every ten minutes in the office",
                                               "details": "only on the guest network"})
    assert wifi.outcome is Outcome.ESCALATED and wifi.ticket_key == "IT-2"
    db.dispose()
