"""The ticket carries *this* request: its turns only, button presses as choices, its articles and topic."""

from __future__ import annotations

import datetime as dt

from bot.storage.base import utcnow
from bot.storage.models import AnalyticsEvent, TranscriptEntry
from tests.ticketing.conftest import press, tickets


def _turn(s, user: str, minutes_ago: float, said: str, answer: str, *, intent: str | None = None,
          outcome: str = "answered", article: str | None = None) -> None:
    """One earlier turn, as the engine records it (transcript lines + analytics event)."""
    at = utcnow() - dt.timedelta(minutes=minutes_ago)
    turn = f"turn-{user}-{minutes_ago}"
    with s.db.session() as session:
        for speaker, text in (("user", said), ("bot", answer)):
            session.add(TranscriptEntry(turn_id=turn, user_key=f"slack:{user}", channel="slack", speaker=speaker,
                                        text=text, created_at=at))
        session.add(AnalyticsEvent(turn_id=turn, user_key=f"slack:{user}", channel="slack", question=said,
                                   intent=intent, confidence=0.9, outcome=outcome, top_article_id=article,
                                   created_at=at))


def test_ticket_has_this_requests_turns_choices_articles_and_topic(local_services):
    s = local_services
    _turn(s, "alice", 90, "how do I print double-sided", "Open the print dialog…", intent="printer_issue",
          article="printing/duplex")
    _turn(s, "alice", 20, "my outlook calendar is empty", "Try restarting Outlook…", intent="email_issue",
          article="email/calendar")
    _turn(s, "alice", 6, "my vpn keeps dropping every hour", "Here is how to fix VPN drops…", intent="vpn_issue",
          article="network/vpn")
    _turn(s, "alice", 5, "[answer.feedback]", "Sorry it didn't help.", outcome="feedback")
    _turn(s, "alice", 4, "[ticket.open]", "Let's open a ticket for IT.", outcome="collecting")
    reply = press(s, "alice", "ticket.submit", {"summary": "VPN drops hourly", "details": "since the update",
                                                "category": "talk_to_human"})
    assert reply.ticket_key == "IT-1"
    [t] = tickets(s)
    conversation = t.description.split("*Conversation (secrets redacted)*", 1)[1]
    assert "my vpn keeps dropping every hour" in conversation
    assert "(chose: Open a ticket)" in conversation and "(chose: Send the ticket)" in conversation
    assert "[ticket.open]" not in t.description and "[answer.feedback]" not in t.description
    assert "double-sided" not in t.description and "outlook" not in t.description.lower()
    assert "network/vpn" in t.description and "printing/duplex" not in t.description
    assert "email/calendar" not in t.description
    assert t.category == "vpn_issue"  # the request's intent, not "talk_to_human"


def test_an_earlier_ticket_ends_the_earlier_request(local_services):
    s = local_services
    _turn(s, "alice", 8, "my monitor flickers", "Check the cable…", intent="hardware_issue", article="hw/monitor")
    _turn(s, "alice", 7, "[ticket.submit]", "I've opened ticket IT-9 for IT", outcome="escalated")
    _turn(s, "alice", 3, "the wifi in room 4 is down", "Here is how to reconnect…", intent="wifi_issue",
          article="network/wifi")
    press(s, "alice", "ticket.submit", {"summary": "Wifi down in room 4", "details": "since 9am"})
    [t] = tickets(s)
    assert "monitor" not in t.description and "hw/monitor" not in t.description
    assert "the wifi in room 4 is down" in t.description and t.category == "wifi_issue"


def test_the_employees_own_words_are_kept_when_the_details_are_the_bots(local_services):
    s = local_services
    _turn(s, "alice", 2, "please reset bob's password, he is locked out", "I can only act on your own account.",
          intent="password_reset")
    press(s, "alice", "ticket.submit", {"summary": "Password reset request",
                                        "details": "Directory self-service is not configured"})
    [t] = tickets(s)
    what = t.description.split("*Requester*", 1)[0]
    assert "please reset bob's password, he is locked out" in what
