"""The local queue (embedded default): opening tickets in chat, duplicates, status, rating."""

from __future__ import annotations

from bot.messages import Outcome
from tests.ticketing.conftest import ask_intent, notifications, press, say, tickets


def test_open_from_answer_button_collects_details_and_urgency_then_gives_the_key(local_services):
    s = local_services
    reply = press(s, "alice", "ticket.open", {"summary": "VPN drops every ten minutes"})
    assert reply.form is not None and reply.form.submit_action == "ticket.submit"
    assert reply.form.fields["summary"] == "VPN drops every ten minutes"
    assert reply.outcome is Outcome.COLLECTING and "Tell me more" in reply.text
    reply = say(s, "alice", "Since this morning, error 812 on the GlobalProtect client. my password is hunter2")
    assert reply.outcome is Outcome.COLLECTING and "How urgent" in reply.text
    reply = say(s, "alice", "it's urgent, I can't work")
    # nothing reaches IT before the employee confirms the recap (which never repeats a secret)
    assert reply.outcome is Outcome.COLLECTING and "Shall I open it?" in reply.text and not tickets(s)
    assert "VPN drops every ten minutes" in reply.text and "Urgency: High" in reply.text
    assert "hunter2" not in reply.text
    reply = say(s, "alice", "yes")
    assert reply.outcome is Outcome.ESCALATED
    assert reply.ticket_key == "IT-1" and "IT-1" in reply.text
    [t] = tickets(s)
    assert t.summary == "VPN drops every ten minutes"
    assert t.urgency == "high" and t.priority == "High"
    assert t.requester_user_key == "slack:alice" and t.requester_email == "alice@example.com"
    assert "error 812" in t.description
    assert "hunter2" not in t.description and "[REDACTED]" in t.description
    assert "ref helpdesk-" in t.description
    # the bot's earlier turns are in the transcript section
    assert "*Conversation (secrets redacted)*" in t.description and "Tell me more" in t.description


def test_form_submission_creates_ticket_and_posts_to_triage_channel(local_services, make_settings,
                                                                     database_url, migrated_db):
    from bot.services import Services

    s = Services(make_settings(database_url, slack={"triage_channel": "C0TRIAGE"}), migrated_db)
    reply = press(s, "alice", "ticket.submit", {"summary": "Laptop won't boot", "details": "Black screen",
                                                 "urgency": "critical"})
    assert reply.outcome is Outcome.ESCALATED and reply.ticket_key == "IT-1"
    [triage] = notifications(s, "slack:C0TRIAGE")
    assert "IT-1" in triage.reply["text"] and "Laptop won't boot" in triage.reply["text"]
    assert tickets(s)[0].priority == "Highest"


def test_duplicate_warning_offers_comment_on_the_open_ticket(local_services):
    s = local_services
    press(s, "alice", "ticket.submit", {"summary": "Outlook keeps crashing on startup",
                                        "details": "Outlook crashes every time I open it", "urgency": "normal"})
    reply = press(s, "alice", "ticket.submit", {"summary": "Outlook crashing when starting",
                                                "details": "it crashes again on startup", "urgency": "normal"})
    assert reply.outcome is Outcome.COLLECTING
    assert "IT-1" in reply.text and "same problem" in reply.text
    labels = [b.label for b in reply.buttons]
    assert labels == ["Add to IT-1", "Open a new ticket"]
    add = reply.buttons[0]
    done = press(s, "alice", add.action_id, add.value)
    assert done.outcome is Outcome.ESCALATED and "IT-1" in done.text
    assert len(tickets(s)) == 1
    # a different problem is not a duplicate; "open a new ticket anyway" creates one
    other = press(s, "alice", "ticket.submit", {"summary": "Printer on floor 3 jams", "details": "paper jam",
                                                "urgency": "low"})
    assert other.outcome is Outcome.ESCALATED and other.ticket_key == "IT-2"
    again = press(s, "alice", "ticket.submit", {"summary": "Outlook crashing when starting",
                                                "details": "again", "urgency": "normal"})
    anyway = press(s, "alice", again.buttons[1].action_id, again.buttons[1].value)
    assert anyway.outcome is Outcome.ESCALATED and anyway.ticket_key == "IT-3"


def test_other_employees_tickets_are_not_duplicates(local_services):
    s = local_services
    press(s, "alice", "ticket.submit", {"summary": "Outlook keeps crashing on startup", "details": "x"})
    reply = press(s, "bob", "ticket.submit", {"summary": "Outlook keeps crashing on startup", "details": "x"})
    assert reply.outcome is Outcome.ESCALATED and reply.ticket_key == "IT-2"


def test_status_only_for_the_reporter_in_plain_words(local_services):
    s = local_services
    press(s, "alice", "ticket.submit", {"summary": "Need access to the finance share", "details": "for Q3"})
    mine = ask_intent(s, "alice", "what's the status of IT-1?", "ticket_status")
    assert mine.outcome is Outcome.INFO and mine.ticket_key == "IT-1"
    assert "waiting for IT to pick it up" in mine.text and "Assignee: nobody yet" in mine.text
    assert "Last update: just now" in mine.text
    assert "(status" not in mine.text  # issue 13: no raw workflow status in brackets
    theirs = ask_intent(s, "bob", "status of IT-1", "ticket_status")
    assert "finance" not in theirs.text
    missing = ask_intent(s, "alice", "status of IT-99", "ticket_status")
    assert "can't find ticket IT-99" in missing.text
    # issue 13: "not yours" reads exactly like "does not exist"
    assert theirs.text == missing.text.replace("IT-99", "IT-1")


def test_status_key_from_nlu_entity(local_services):
    from intents.api import Entity

    s = local_services
    press(s, "alice", "ticket.submit", {"summary": "Monitor flickers", "details": "HDMI"})
    reply = ask_intent(s, "alice", "how is my ticket doing", "ticket_status",
                       entities=[Entity("ticket_key", "it-1", 0, 4)])
    assert reply.ticket_key == "IT-1" and "Monitor flickers" in reply.text


def test_my_tickets_lists_only_mine(local_services):
    s = local_services
    press(s, "alice", "ticket.submit", {"summary": "Monitor flickers", "details": "HDMI"})
    press(s, "bob", "ticket.submit", {"summary": "Keyboard missing keys", "details": "x"})
    reply = ask_intent(s, "alice", "my tickets", "my_tickets")
    assert "IT-1" in reply.text and "Monitor flickers" in reply.text
    assert "IT-2" not in reply.text
    nothing = ask_intent(s, "carol", "my tickets", "my_tickets")
    assert "no tickets" in nothing.text


def test_talk_to_human_asks_what_is_wrong(local_services):
    s = local_services
    reply = ask_intent(s, "alice", "let me talk to a human", "talk_to_human")
    assert reply.outcome is Outcome.COLLECTING and "person in IT" in reply.text
    assert reply.form is not None
    assert "what's the problem" in reply.text
    say(s, "alice", "My badge does not open the office door")
    say(s, "alice", "It stopped working on Monday")
    recap = say(s, "alice", "normal")
    assert not tickets(s)
    [send] = [b for b in recap.buttons if b.label == "Open the ticket"]
    done = press(s, "alice", send.action_id, send.value)
    assert done.outcome is Outcome.ESCALATED
    assert tickets(s)[0].category == "talk_to_human"


def test_cancel_stops_collection_and_creates_nothing(local_services):
    s = local_services
    press(s, "alice", "ticket.open", {"summary": ""})
    reply = say(s, "alice", "cancel")
    assert "cancelled" in reply.text
    assert tickets(s) == []


def test_rating_by_the_requester_only(local_services):
    s = local_services
    press(s, "alice", "ticket.submit", {"summary": "Monitor flickers", "details": "HDMI"})
    refused = press(s, "bob", "ticket.rate", {"key": "IT-1", "rating": 1})
    assert refused.outcome is Outcome.ERROR
    ok = press(s, "alice", "ticket.rate", {"key": "IT-1", "rating": 5})
    assert ok.outcome is Outcome.FEEDBACK
    assert tickets(s)[0].rating == 5


def test_articles_from_the_answer_button_reach_the_ticket(local_services):
    s = local_services
    press(s, "alice", "ticket.open", {"summary": "How do I set up MFA on a new phone?",
                                      "articles_suggested": [{"article_id": "mfa-phone", "title": "MFA on a new phone",
                                                              "url": "https://kb.example.com/mfa"}],
                                      "articles_unhelpful": ["mfa-phone"]})
    say(s, "alice", "The QR code in the article does not appear for me")
    say(s, "alice", "low")
    reply = say(s, "alice", "yes")  # the recap's confirmation
    assert reply.outcome is Outcome.ESCALATED
    d = tickets(s)[0].description
    assert "MFA on a new phone (https://kb.example.com/mfa)" in d
    assert "*Rated unhelpful by the employee*\n- mfa-phone" in d


def test_asking_for_a_ticket_with_the_problem_keeps_the_problem_as_summary(local_services):
    s = local_services
    reply = ask_intent(s, "alice", "please open a ticket about the broken projector in room 4", "open_ticket")
    assert reply.form.fields["summary"] == "The broken projector in room 4"
    assert "Tell me more" in reply.text
    say(s, "alice", "No image since yesterday")
    assert say(s, "alice", "high").ticket_key is None and not tickets(s), "nothing before the recap's yes"
    assert say(s, "alice", "yes").ticket_key == "IT-1"
    assert tickets(s)[0].summary == "The broken projector in room 4"


def test_ticket_from_an_answer_button_takes_the_question_topic_as_category(local_services):
    from bot.storage.models import AnalyticsEvent

    s = local_services
    with s.db.session() as session:  # the answer turn the engine recorded just before
        session.add(AnalyticsEvent(turn_id="t-vpn", user_key="slack:alice", channel="slack",
                                   question="vpn keeps dropping", intent="vpn_issue", confidence=0.9,
                                   outcome="answered", top_article_id="vpn-setup"))
    press(s, "alice", "ticket.open", {"summary": "vpn keeps dropping"})
    say(s, "alice", "every ten minutes")
    say(s, "alice", "normal")
    say(s, "alice", "yes")
    t = tickets(s)[0]
    assert t.category == "vpn_issue"
    assert "vpn-setup" in t.description  # the article the bot had suggested
