"""Outbox delivery under failure: key clashes, ambiguous failures, lost claims, `outbox --retry` of rows in flight."""

from __future__ import annotations

import json
import threading
import time

from sqlalchemy import select

from bot.storage.base import utcnow
from integrations.ticketing.models import TicketOutbox
from tests.ticketing.conftest import (
    CLOUD_TOKEN,
    SERVER_PAT,
    deliver_outbox,
    local_ticket,
    notifications,
    press,
    tickets,
)


def test_key_clash_marks_the_row_failed_instead_of_stalling_the_outbox(jira_services, fake_jira):
    s = jira_services
    local_ticket(s, "IT-1")  # Jira will hand out IT-1 too
    press(s, "alice", "ticket.submit", {"summary": "Monitor flickers", "details": "since Monday"})
    result = deliver_outbox(s)  # does not raise
    assert result.failed == 1 and result.delivered == 0
    with s.db.session() as session:
        [row] = session.scalars(select(TicketOutbox)).all()
        assert row.status == "failed" and "IT-1" in row.last_error and "already has that key" in row.last_error
    mine = next(t for t in tickets(s) if t.requester_user_key == "slack:alice")
    assert mine.key is None
    assert any("couldn't file your ticket" in n.reply["text"] for n in notifications(s, "slack:alice"))
    press(s, "bob", "ticket.submit", {"summary": "Keyboard missing keys", "details": "F5"})
    assert deliver_outbox(s).delivered == 1  # the rest of the outbox keeps flowing


def test_ambiguous_failure_waits_for_jiras_search_index(jira_services, fake_jira):
    s = jira_services
    press(s, "alice", "ticket.submit", {"summary": "Dock not charging", "details": "USB-C"})
    fake_jira.fail("lost_response", times=1, delay=1.0)
    assert deliver_outbox(s).retried == 1
    with s.db.session() as session:
        [row] = session.scalars(select(TicketOutbox)).all()
        wait = (row.next_attempt_at - utcnow()).total_seconds()
    assert wait >= 55  # not the configured 0.01 s backoff: the label search may not see it yet
    assert deliver_outbox(s).retried == 0  # not due yet


def test_a_worker_that_lost_its_claim_does_not_write_the_outcome(jira_services, fake_jira):
    s = jira_services
    press(s, "alice", "ticket.submit", {"summary": "Dock not charging", "details": "USB-C"})
    fake_jira.fail("timeout", times=1, delay=1.5)
    slow = threading.Thread(target=deliver_outbox, args=(s,))
    slow.start()
    deadline = time.monotonic() + 5  # until the worker's request is in Jira's hands (its 0.5 s timeout runs)
    while fake_jira.state.fail_remaining != 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert fake_jira.state.fail_remaining == 0, "the worker never reached Jira"
    with s.db.session() as session:  # the lease ran out; another replica claimed the row again
        [row] = session.scalars(select(TicketOutbox)).all()
        assert row.attempts == 1
        row.attempts = 2
    slow.join(10)
    with s.db.session() as session:
        [row] = session.scalars(select(TicketOutbox)).all()
        assert row.status == "pending" and row.attempts == 2 and row.last_error is None


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
