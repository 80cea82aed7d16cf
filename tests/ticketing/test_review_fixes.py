"""Security/reliability review fixes: secrets, forged button values, webhook replay and ordering,
outbox claims and key clashes, exact reporter matching."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time

import httpx
import pytest
from sqlalchemy import select

from bot.messages import Outcome, Reply
from bot.storage.base import utcnow
from integrations.ticketing.models import Ticket, TicketComment, TicketOutbox
from integrations.ticketing.worker import run_once
from tests.ticketing.conftest import (
    CLOUD_TOKEN,
    SERVER_PAT,
    WEBHOOK_SECRET,
    ask_intent,
    notifications,
    press,
    say,
    tickets,
)
from tests.ticketing.test_webhook import example, post

SECRET_WORD = "hunter22"


def _due_now(s) -> None:
    with s.db.session() as session:
        for row in session.scalars(select(TicketOutbox)).all():
            row.next_attempt_at = utcnow()


def _rows_text(s) -> str:
    """Every stored text the ticketing tables and the conversation state hold, as one string."""
    from bot.storage.models import ConversationState

    with s.db.session() as session:
        parts = []
        for t in session.scalars(select(Ticket)).all():
            parts += [t.summary, t.description, t.employee_text, json.dumps(t.extra)]
        parts += [c.body for c in session.scalars(select(TicketComment)).all()]
        parts += [json.dumps(o.payload) for o in session.scalars(select(TicketOutbox)).all()]
        parts += [json.dumps(c.slots) for c in session.scalars(select(ConversationState)).all()]
    return "\n".join(parts)


def _local_ticket(s, key: str) -> None:
    """A ticket of the local queue (e.g. from before the switch to Jira) with ``key``."""
    with s.db.session() as session:
        session.add(Ticket(key=key, idem_key=f"helpdesk-local-{key}", backend="local",
                           requester_user_key="slack:carol", requester_email="carol@example.com",
                           participants=[], summary="Local ticket", description="local", status="Open",
                           status_category="open", components=[], labels=[], extra={}))


# --------------------------------------------------------------------- finding 2: secrets
def test_secrets_in_details_and_comments_never_reach_rows_or_jira(jira_services, fake_jira):
    s = jira_services
    token = CLOUD_TOKEN if fake_jira.deployment == "cloud" else SERVER_PAT
    # conversational collection: the details typed in chat are kept in the flow's slots meanwhile
    press(s, "alice", "ticket.open", {"summary": "Printer jams on floor 3"})
    say(s, "alice", f"it asks for my password: {SECRET_WORD} and then jams, token {token}")
    assert SECRET_WORD not in _rows_text(s) and token not in _rows_text(s)
    say(s, "alice", "normal")
    run_once(s)
    again = press(s, "alice", "ticket.submit", {"summary": "Printer on floor 3 jams again",
                                                "details": f"still jams; new pin is {SECRET_WORD}"})
    add = again.buttons[0]
    assert add.action_id == "ticket.comment_existing"
    done = press(s, "alice", add.action_id, add.value)
    assert done.outcome is Outcome.ESCALATED
    # a forged button value carrying a secret straight into the comment
    press(s, "alice", "ticket.comment_existing", {"key": "IT-1", "details": f"password={SECRET_WORD}2"})
    run_once(s)
    _due_now(s)
    run_once(s)
    stored = _rows_text(s)
    assert SECRET_WORD not in stored and token not in stored and "[REDACTED]" in stored
    [issue] = fake_jira.state.issues.values()
    sent = issue["fields"]["description"] + json.dumps(fake_jira.state.comments)
    assert len(fake_jira.state.comments["IT-1"]) == 2
    assert SECRET_WORD not in sent and token not in sent and "[REDACTED]" in sent


# --------------------------------------------------------------------- finding 5: backend, key clash
def test_webhook_for_a_local_queue_ticket_is_ignored(jira_services, bot_url, jira_ticket):
    s = jira_services
    _local_ticket(s, "IT-77")
    data = json.loads(example("mattermost-webhook-issue-updated-resolved.json", jira_ticket))
    data["issue"]["key"], data["issue"]["id"] = "IT-77", "424242"
    r = post(bot_url, json.dumps(data).encode())
    assert r.status_code == 200 and r.json()["result"] == "ignored"
    local = next(t for t in tickets(s) if t.key == "IT-77")
    assert local.status_category == "open" and local.resolved_at is None
    assert notifications(s, "slack:carol") == []


def test_key_clash_marks_the_row_failed_instead_of_stalling_the_outbox(jira_services, fake_jira):
    s = jira_services
    _local_ticket(s, "IT-1")  # Jira will hand out IT-1 too
    press(s, "alice", "ticket.submit", {"summary": "Monitor flickers", "details": "since Monday"})
    result = run_once(s)  # does not raise
    assert result.failed == 1 and result.delivered == 0
    with s.db.session() as session:
        [row] = session.scalars(select(TicketOutbox)).all()
        assert row.status == "failed" and "IT-1" in row.last_error and "already has that key" in row.last_error
    mine = next(t for t in tickets(s) if t.requester_user_key == "slack:alice")
    assert mine.key is None
    assert any("couldn't file your ticket" in n.reply["text"] for n in notifications(s, "slack:alice"))
    press(s, "bob", "ticket.submit", {"summary": "Keyboard missing keys", "details": "F5"})
    assert run_once(s).delivered == 1  # the rest of the outbox keeps flowing


# --------------------------------------------------------------------- finding 6: exact e-mail
def test_reporter_and_my_tickets_need_an_exact_email_match(jira_services, fake_jira):
    s = jira_services
    press(s, "alice", "ticket.submit", {"summary": "VPN drops", "details": "error 812"})
    run_once(s)
    # ice@example.com is no Jira user, but a fuzzy user search for it finds alice@example.com alone
    mine = ask_intent(s, "ice", "my tickets", "my_tickets")
    assert "VPN drops" not in mine.text and "IT-1" not in mine.text
    press(s, "ice", "ticket.submit", {"summary": "Mouse broken", "details": "wheel"})
    run_once(s)
    issue = fake_jira.state.issues["IT-2"]
    assert (issue["fields"].get("reporter") or {}).get("emailAddress") != "alice@example.com"


# --------------------------------------------------------------------- finding 7: replay, order, sha1
def test_replay_with_a_fresh_identifier_header_has_no_second_effect(jira_services, bot_url,
                                                                    jira_ticket):
    body = example("mattermost-webhook-cloud-comment-created.json", jira_ticket)
    assert post(bot_url, body, delivery_id="d-1").json()["result"] == "applied"
    replay = post(bot_url, body, delivery_id="d-2-forged")
    assert replay.status_code == 200 and replay.json()["result"] == "duplicate"
    notes = [n for n in notifications(jira_services, "slack:alice") if "replied" in n.reply["text"]]
    assert len(notes) == 1


def _issue_update(ticket, *, status: dict, updated: str) -> bytes:
    data = json.loads(example("mattermost-webhook-issue-updated-resolved.json", ticket, status=status))
    data["issue"]["fields"]["updated"] = updated
    if status["statusCategory"]["key"] != "done":
        data["issue"]["fields"]["resolution"] = None
    data.pop("changelog", None)
    return json.dumps(data).encode()


DONE = {"name": "Done", "statusCategory": {"key": "done", "name": "Done"}}
IN_PROGRESS = {"name": "In Progress", "statusCategory": {"key": "indeterminate", "name": "In Progress"}}


def test_older_issue_updated_does_not_overwrite_a_newer_status(jira_services, bot_url,
                                                               jira_ticket):
    s = jira_services
    newer = _issue_update(jira_ticket, status=DONE, updated="2026-11-25T10:05:00.000+0000")
    older = _issue_update(jira_ticket, status=IN_PROGRESS, updated="2026-11-25T10:00:00.000+0000")
    assert post(bot_url, newer).json()["result"] == "applied"
    assert post(bot_url, older).json()["result"] == "ignored"  # delivered late, out of order
    [t] = tickets(s)
    assert t.status == "Done" and t.status_category == "done" and t.resolved_at is not None
    assert not [n for n in notifications(s, "slack:alice") if "reopened" in n.reply["text"].lower()]
    later = _issue_update(jira_ticket, status=IN_PROGRESS, updated="2026-11-25T11:00:00.000+0000")
    assert post(bot_url, later).json()["result"] == "applied"  # a genuinely newer reopen applies
    assert tickets(s)[0].status_category == "open"


def test_sha1_signatures_are_refused(jira_services, bot_url, jira_ticket):
    body = example("mattermost-webhook-cloud-comment-created.json", jira_ticket)
    sig = "sha1=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha1).hexdigest()
    r = httpx.post(f"{bot_url}/webhooks/jira", content=body,
                   headers={"Content-Type": "application/json", "X-Hub-Signature": sig})
    assert r.status_code == 401
    assert post(bot_url, body, sign=True).json()["result"] == "applied"


# --------------------------------------------------------------------- finding 8: status check
def test_status_check_then_resolve_webhook_still_notifies_with_rating(jira_services, bot_url,
                                                                      jira_ticket, fake_jira):
    s = jira_services
    fake_jira.set_status(jira_ticket.key, "done")
    shown = ask_intent(s, "alice", f"status of {jira_ticket.key}?", "ticket_status")
    assert "resolved" in shown.text.lower()
    body = _issue_update(jira_ticket, status=DONE, updated="2026-11-25T10:05:00.000+0000")
    assert post(bot_url, body).json()["result"] == "applied"
    [note] = [n for n in notifications(s, "slack:alice") if "resolved" in n.reply["text"]]
    assert [b.action_id for b in Reply.from_dict(note.reply).buttons][:3] == ["ticket.rate"] * 3
    assert tickets(s)[0].resolved_at is not None


# --------------------------------------------------------------------- finding 11: outbox claims
def test_ambiguous_failure_waits_for_jiras_search_index(jira_services, fake_jira):
    s = jira_services
    press(s, "alice", "ticket.submit", {"summary": "Dock not charging", "details": "USB-C"})
    fake_jira.fail("lost_response", times=1, delay=1.0)
    assert run_once(s).retried == 1
    with s.db.session() as session:
        [row] = session.scalars(select(TicketOutbox)).all()
        wait = (row.next_attempt_at - utcnow()).total_seconds()
    assert wait >= 55  # not the configured 0.01 s backoff: the label search may not see it yet
    assert run_once(s).retried == 0  # not due yet


def test_a_worker_that_lost_its_claim_does_not_write_the_outcome(jira_services, fake_jira):
    s = jira_services
    press(s, "alice", "ticket.submit", {"summary": "Dock not charging", "details": "USB-C"})
    fake_jira.fail("timeout", times=1, delay=1.5)
    slow = threading.Thread(target=run_once, args=(s,))
    slow.start()
    time.sleep(0.3)
    with s.db.session() as session:  # the lease ran out; another replica claimed the row again
        [row] = session.scalars(select(TicketOutbox)).all()
        assert row.attempts == 1
        row.attempts = 2
    slow.join(10)
    with s.db.session() as session:
        [row] = session.scalars(select(TicketOutbox)).all()
        assert row.status == "pending" and row.attempts == 2 and row.last_error is None


# --------------------------------------------------------------------- finding 16: size cap
@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_webhook_is_refused_with_413(jira_services, bot_url, jira_ticket, chunked):
    big = b'{"webhookEvent": "comment_created", "pad": "' + b"x" * 1_100_000 + b'"}'
    content = (iter([big[i:i + 65536] for i in range(0, len(big), 65536)]) if chunked else big)
    r = httpx.post(f"{bot_url}/webhooks/jira", content=content, params={"secret": WEBHOOK_SECRET},
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_declared_oversized_body_is_refused_before_it_is_sent(jira_services, bot_url):
    """A Content-Length over the cap is answered at once: the bot does not wait for (or buffer) it."""
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(bot_url)
    with socket.create_connection((where.hostname, where.port), timeout=5) as sock:
        sock.sendall(f"POST /webhooks/jira?secret={WEBHOOK_SECRET} HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/json\r\nContent-Length: 500000000\r\n\r\n".encode())
        answer = sock.recv(4096)  # times out (socket.timeout) if the bot waits for the body
    assert answer.startswith(b"HTTP/1.1 413")


# --------------------------------------------------------------------- finding 17, 18: forged buttons
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


# --------------------------------------------------------------------- finding 19: comment twice
def test_the_same_jira_comment_is_stored_once(jira_services, bot_url, jira_ticket):
    """Server sends comment_created and issue_updated for one comment, possibly at the same time."""
    s = jira_services
    bodies = [example("mattermost-webhook-server-comment-created.json", jira_ticket),
              example("mattermost-webhook-server-issue-updated-commented-1.json", jira_ticket)]
    threads = [threading.Thread(target=post, args=(bot_url, b)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with s.db.session() as session:
        assert len(session.scalars(select(TicketComment)).all()) == 1
    assert len([n for n in notifications(s, "slack:alice") if "replied" in n.reply["text"]]) == 1


def test_concurrent_insert_of_one_comment_keeps_one_row(jira_services, jira_ticket, database_url):
    from integrations.ticketing.updates import apply_comment

    if not database_url.startswith("postgresql"):
        pytest.skip("needs row-level concurrency (PostgreSQL): SQLite serialises whole transactions")
    s = jira_services
    results = []
    with s.db.session() as first:
        t1 = first.get(Ticket, jira_ticket.id)
        assert apply_comment(first, t1, author="IT", body="On it", external_id="c-1")
        first.flush()

        def second() -> None:
            with s.db.session() as other:  # its check ran before the first committed
                t2 = other.get(Ticket, jira_ticket.id)
                results.append(apply_comment(other, t2, author="IT", body="On it", external_id="c-1"))

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
    thread.join(10)
    assert results == [False]
    with s.db.session() as session:
        assert len(session.scalars(select(TicketComment)).all()) == 1


def test_unique_comment_id_per_ticket_is_enforced(jira_services, jira_ticket):
    from sqlalchemy.exc import IntegrityError

    s = jira_services
    with pytest.raises(IntegrityError), s.db.session() as session:
        for _ in range(2):
            session.add(TicketComment(ticket_id=jira_ticket.id, author="IT", body="x", external_id="c-9"))
        session.flush()


# --------------------------------------------------------------------- finding 20: early webhook
def test_early_webhook_retried_later_is_applied(jira_services, bot_url, jira_ticket):
    s = jira_services
    body = example("mattermost-webhook-cloud-comment-created.json", jira_ticket)
    with s.db.session() as session:  # as before the worker recorded the key Jira gave
        t = session.get(Ticket, jira_ticket.id)
        t.key, t.remote_id = None, None
    assert post(bot_url, body, delivery_id="early-1").json()["result"] == "ignored"
    with s.db.session() as session:
        t = session.get(Ticket, jira_ticket.id)
        t.key, t.remote_id = jira_ticket.key, jira_ticket.remote_id
    assert post(bot_url, body, delivery_id="early-1").json()["result"] == "applied"  # Jira's retry
    assert len([n for n in notifications(s, "slack:alice") if "replied" in n.reply["text"]]) == 1


# --------------------------------------------------------------------- finding 25: secret in logs
def test_accepted_query_secret_never_reaches_the_logs(jira_services, bot_url, jira_ticket, caplog):
    caplog.set_level(logging.DEBUG)
    body = example("mattermost-webhook-cloud-comment-created.json", jira_ticket)
    r = post(bot_url, body)  # ?secret=<the real secret>
    assert r.status_code == 200 and r.json()["result"] == "applied"
    time.sleep(0.2)  # the access log line is written after the response
    server_side = [r.getMessage() for r in caplog.records
                   if not r.name.startswith(("httpx", "httpcore"))]  # not the test's own client
    assert any("/webhooks/jira" in line for line in server_side)  # the access log was captured ...
    assert not [line for line in server_side if WEBHOOK_SECRET in line]  # ... without the secret


# --------------------------------------------------------------------- finding 12: --retry
def test_outbox_retry_refuses_rows_in_flight(jira_services, fake_jira, database_url, tmp_path):
    """`helpdesk tickets outbox --retry` (a real subprocess) requeues failed rows only: a pending
    row may be claimed by a worker talking to Jira right now."""
    import os
    import subprocess
    import sys
    from datetime import timedelta

    from tests.ticketing.conftest import CLOUD_EMAIL

    s = jira_services
    press(s, "alice", "ticket.submit", {"summary": "Webcam dead", "details": "black image"})
    press(s, "bob", "ticket.submit", {"summary": "Headset crackles", "details": "left side"})
    lease_end = utcnow() + timedelta(minutes=5)
    with s.db.session() as session:
        in_flight, failed = session.scalars(select(TicketOutbox).order_by(TicketOutbox.id)).all()
        in_flight.attempts, in_flight.next_attempt_at = 1, lease_end  # claimed by a worker
        failed.status, failed.attempts, failed.last_error = "failed", 50, "HTTP 500"
        ids = in_flight.id, failed.id
    auth = (f'email = "{CLOUD_EMAIL}"\napi_token = "{CLOUD_TOKEN}"\n' if fake_jira.deployment == "cloud"
            else f'personal_access_token = "{SERVER_PAT}"\n')
    cfg = tmp_path / "jira.toml"
    cfg.write_text(f'[database]\nurl = "{database_url}"\n[ticketing]\nbackend = "jira"\n'
                   f'[ticketing.jira]\nurl = "{fake_jira.url}"\n{auth}', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env["HELPDESK_CONFIG"] = str(cfg)
    proc = subprocess.run([sys.executable, "-m", "bot", "tickets", "outbox", "--retry", str(ids[0]),
                           "--retry", str(ids[1]), "--json"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["already_queued"] == [ids[0]] and out["requeued"] == [ids[1]]
    with s.db.session() as session:
        row = session.get(TicketOutbox, ids[0])
        assert row.status == "pending" and row.attempts == 1
        assert abs((row.next_attempt_at - lease_end).total_seconds()) < 1  # the claim is untouched
        assert session.get(TicketOutbox, ids[1]).status == "pending"
    assert fake_jira.state.create_calls == 0


def test_forged_ticket_reference_in_a_comment_button_is_refused_cleanly(local_services):
    s = local_services
    press(s, "alice", "ticket.submit", {"summary": "Need a monitor", "details": "24 inch"})
    for value in ({"ticket_id": "x' OR 1=1", "details": "hi"}, {"ticket_id": 10**12, "details": "hi"},
                  {"key": {"nested": 1}, "details": "hi"}, {"key": "IT-1' --", "details": "hi"}):
        reply = press(s, "bob", "ticket.comment_existing", value)
        assert "can't find ticket" in reply.text and reply.outcome is Outcome.ERROR
    refused = press(s, "bob", "ticket.comment_existing", {"key": "IT-1", "details": "hi"})
    assert "only do that for tickets you reported" in refused.text
    with s.db.session() as session:
        assert session.scalars(select(TicketComment)).all() == []
