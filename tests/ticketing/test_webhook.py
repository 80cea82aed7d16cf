"""Jira webhooks (deliveries built from ../shared/specs/jira/examples) reach the employee."""

from __future__ import annotations

import json

import pytest

from bot.messages import Outcome, Reply
from tests.ticketing.conftest import notifications, press, tickets
from tests.ticketing.webhooks import example, post


def test_comment_is_relayed_to_the_employee_once(jira_services, bot_url, jira_ticket):
    s = jira_services
    sent: list[tuple[str, Reply]] = []
    s.register_sender("slack", lambda user_key, reply: sent.append((user_key, reply)))
    body = example("mattermost-webhook-cloud-comment-created.json", jira_ticket)
    r = post(bot_url, body, delivery_id="d-1")
    assert r.status_code == 200 and r.json()["result"] == "applied"
    again = post(bot_url, body, delivery_id="d-1")
    assert again.json()["result"] == "duplicate"
    comment_notes = [n for n in notifications(s, "slack:alice") if "replied" in n.reply["text"]]
    assert len(comment_notes) == 1
    from bot.notify import deliver_pending

    deliver_pending(s)
    relayed = [(k, r) for k, r in sent if "replied" in r.text]
    assert relayed == [("slack:alice", relayed[0][1])]
    assert "Test User replied on" in relayed[0][1].text and "Added a comment" in relayed[0][1].text
    assert relayed[0][1].ticket_key == jira_ticket.key


def test_server_shaped_comment_without_issue_is_matched_by_issue_id(jira_services, bot_url, jira_ticket):
    body = example("mattermost-webhook-server-comment-created.json", jira_ticket)
    assert post(bot_url, body).json()["result"] == "applied"
    # Jira Server also sends issue_updated/issue_commented for the same comment: one message only
    body2 = example("mattermost-webhook-server-issue-updated-commented-1.json", jira_ticket)
    post(bot_url, body2)
    notes = [n for n in notifications(jira_services, "slack:alice") if "replied" in n.reply["text"]]
    assert len(notes) == 1 and "Lev Brouk replied" in notes[0].reply["text"]


def test_resolution_brings_rating_buttons(jira_services, bot_url, jira_ticket):
    s = jira_services
    body = example("mattermost-webhook-issue-updated-resolved.json", jira_ticket)
    assert post(bot_url, body, sign=True).json()["result"] == "applied"
    [note] = [n for n in notifications(s, "slack:alice") if "resolved" in n.reply["text"]]
    reply = Reply.from_dict(note.reply)
    rate = [b for b in reply.buttons if b.action_id == "ticket.rate"]
    assert [b.value["rating"] for b in rate] == [5, 3, 1]
    done = press(s, "alice", "ticket.rate", rate[0].value)
    assert done.outcome is Outcome.FEEDBACK
    assert tickets(s)[0].rating == 5 and tickets(s)[0].status_category == "done"


def test_assignment_updates_status_without_spamming(jira_services, bot_url, jira_ticket):
    body = example("mattermost-webhook-issue-updated-assigned.json", jira_ticket)
    assert post(bot_url, body).json()["result"] == "applied"
    assert tickets(jira_services)[0].assignee == "Test User"
    assert [n for n in notifications(jira_services, "slack:alice") if "replied" in n.reply["text"]] == []


@pytest.mark.parametrize("body,reason", [
    (b"not json", "not JSON"),
    (b'{"webhookEvent": "jira:worklog_updated", "issue": {}}', "unknown webhookEvent"),
    (b'{"webhookEvent": "comment_created"}', "without a comment"),
    (b"[1, 2]", "not a JSON object"),
])
def test_malformed_or_unknown_delivery_is_rejected(jira_services, bot_url, jira_ticket, body, reason, caplog):
    before = len(notifications(jira_services))
    r = post(bot_url, body)
    assert r.status_code == 400 and reason in r.json()["error"]
    assert reason in caplog.text
    assert len(notifications(jira_services)) == before


def test_delivery_for_an_issue_the_bot_did_not_open_is_ignored(jira_services, bot_url, jira_ticket):
    data = json.loads(example("mattermost-webhook-cloud-comment-created.json", jira_ticket))
    data["issue"]["key"], data["issue"]["id"] = "OTHER-7", "999"
    r = post(bot_url, json.dumps(data).encode())
    assert r.status_code == 200 and r.json()["result"] == "ignored"
