"""Button values and form fields are forged easily: extra keys, ticket keys and references are checked."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.messages import Outcome
from integrations.ticketing.models import TicketComment
from tests.ticketing.conftest import press, tickets


def test_forged_extra_keys_are_dropped(local_services):
    s = local_services
    reply = press(s, "alice", "ticket.submit", {
        "summary": "Need admin rights", "details": "for installing tools",
        "extra": {"approved_by": "CIO (verified by the bot)", "_force": True,
                  "articles_suggested": [{"article_id": "admin", "title": "Admin rights",
                                          "url": "javascript:alert(1)", "evil": "x"}]}})
    assert reply.outcome is Outcome.ESCALATED
    [t] = tickets(s)
    assert "approved_by" not in t.extra and "CIO" not in t.description
    assert "javascript:" not in t.description and "evil" not in json.dumps(t.extra)
    assert "Admin rights" in t.description  # the genuine article list is kept


def test_invalid_key_in_a_status_button_is_not_sent_to_jira(jira_services, fake_jira):
    s = jira_services
    for forged in ("../../serverInfo", "IT-1/comment", "IT-1?expand=x", ""):
        reply = press(s, "alice", "ticket.status", {"key": forged})
        assert "can't find" in reply.text
    assert not [p for _m, p, _st in fake_jira.state.requests if "/issue" in p]


def test_forged_ticket_reference_in_a_comment_button_is_refused_cleanly(local_services):
    s = local_services
    press(s, "alice", "ticket.submit", {"summary": "Need a monitor", "details": "24 inch"})
    for value in ({"ticket_id": "x' OR 1=1", "details": "hi"}, {"ticket_id": 10**12, "details": "hi"},
                  {"key": {"nested": 1}, "details": "hi"}, {"key": "IT-1' --", "details": "hi"}):
        reply = press(s, "bob", "ticket.comment_existing", value)
        assert "can't find ticket" in reply.text and reply.outcome is Outcome.ERROR
    refused = press(s, "bob", "ticket.comment_existing", {"key": "IT-1", "details": "hi"})
    missing = press(s, "bob", "ticket.comment_existing", {"key": "IT-77", "details": "hi"})
    # issue 13: "not yours" reads exactly like "does not exist"
    assert refused.text == missing.text.replace("IT-77", "IT-1") and "can't find ticket IT-1" in refused.text
    with s.db.session() as session:
        assert session.scalars(select(TicketComment)).all() == []
