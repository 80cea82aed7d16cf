"""What the requester sees of their tickets: exact e-mail matching, a status check never swallows the resolution."""

from __future__ import annotations

from bot.messages import Reply
from tests.ticketing.conftest import ask_intent, deliver_outbox, notifications, press, tickets
from tests.ticketing.webhooks import DONE, issue_update, post


def test_reporter_and_my_tickets_need_an_exact_email_match(jira_services, fake_jira):
    s = jira_services
    press(s, "alice", "ticket.submit", {"summary": "VPN drops", "details": "error 812"})
    deliver_outbox(s)
    # ice@example.com is no Jira user, but a fuzzy user search for it finds alice@example.com alone
    mine = ask_intent(s, "ice", "my tickets", "my_tickets")
    assert "VPN drops" not in mine.text and "IT-1" not in mine.text
    press(s, "ice", "ticket.submit", {"summary": "Mouse broken", "details": "wheel"})
    deliver_outbox(s)
    issue = fake_jira.state.issues["IT-2"]
    assert (issue["fields"].get("reporter") or {}).get("emailAddress") != "alice@example.com"


def test_status_check_then_resolve_webhook_still_notifies_with_rating(jira_services, bot_url,
                                                                      jira_ticket, fake_jira):
    s = jira_services
    fake_jira.set_status(jira_ticket.key, "done")
    shown = ask_intent(s, "alice", f"status of {jira_ticket.key}?", "ticket_status")
    assert "resolved" in shown.text.lower()
    body = issue_update(jira_ticket, status=DONE, updated="2026-11-25T10:05:00.000+0000")
    assert post(bot_url, body).json()["result"] == "applied"
    [note] = [n for n in notifications(s, "slack:alice") if "resolved" in n.reply["text"]]
    assert [b.action_id for b in Reply.from_dict(note.reply).buttons][:3] == ["ticket.rate"] * 3
    assert tickets(s)[0].resolved_at is not None
