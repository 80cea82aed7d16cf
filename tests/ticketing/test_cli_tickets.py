"""`helpdesk tickets …` as IT staff run it (a real subprocess) against the local queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.messages import Reply
from tests.ticketing.conftest import deliver_outbox, notifications, press

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(tmp_path, make_settings, migrated_db, database_url):
    from bot.services import Services

    if not database_url.startswith("sqlite"):
        pytest.skip("the CLI subprocess test uses the SQLite file database")
    cfg = tmp_path / "cli.toml"
    cfg.write_text(f'[database]\nurl = "{database_url}"\n[paths]\ndata_dir = "{ROOT}/data"\n'
                   f'models_dir = "{tmp_path}/models"\nvar_dir = "{tmp_path}/var"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env["HELPDESK_CONFIG"] = str(cfg)

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "bot", "tickets", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc

    services = Services(make_settings(database_url), migrated_db)
    return run, services


def test_it_staff_work_a_ticket_and_the_employee_hears_back(cli):
    run, s = cli
    press(s, "alice", "ticket.submit", {"summary": "Printer on floor 3 jams", "details": "paper jam",
                                        "urgency": "high"})
    listed = json.loads(run("list", "--json").stdout)
    assert [(t["key"], t["summary"], t["priority"]) for t in listed] == [("IT-1", "Printer on floor 3 jams", "High")]
    shown = json.loads(run("show", "IT-1", "--json").stdout)
    assert "paper jam" in shown["description"] and shown["requester"] == "alice@example.com"

    run("comment", "IT-1", "A technician is on the way", "--author", "Dana (IT)", "--json")
    assigned = json.loads(run("assign", "it-1", "Dana (IT)", "--json").stdout)
    assert assigned["assignee"] == "Dana (IT)" and assigned["status"] == "In Progress"
    resolved = json.loads(run("resolve", "IT-1", "--resolution", "Fixed", "--json").stdout)
    assert resolved["status_category"] == "done"

    notes = [Reply.from_dict(n.reply) for n in notifications(s, "slack:alice")]
    assert any("Dana (IT) replied on IT-1" in r.text and "technician" in r.text for r in notes)
    [resolved_note] = [r for r in notes if "resolved" in r.text]
    assert "(Fixed)" in resolved_note.text
    assert [b.action_id for b in resolved_note.buttons][:3] == ["ticket.rate"] * 3

    done = json.loads(run("list", "--status", "done", "--json").stdout)
    assert [t["key"] for t in done] == ["IT-1"]
    again = run("resolve", "IT-1", ok=False)
    assert again.returncode == 1 and "already resolved" in again.stderr
    missing = run("show", "IT-404", ok=False)
    assert missing.returncode == 1 and "IT-404 does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_outbox_is_empty_with_the_local_queue(cli):
    run, _s = cli
    out = json.loads(run("outbox", "--json").stdout)
    assert out["rows"] == []


def test_refused_escalation_is_kept_and_retried_after_the_config_is_fixed(tmp_path, make_settings,
                                                                           migrated_db, database_url):
    """Jira refuses the ticket (unknown project): the row is kept as failed, not lost;
    after fixing the routing, `tickets outbox --retry` delivers it."""
    from bot.services import Services
    from tests.ticketing.conftest import CLOUD_EMAIL, CLOUD_TOKEN, start_fake

    if not database_url.startswith("sqlite"):
        pytest.skip("the CLI subprocess test uses the SQLite file database")
    fake = start_fake("cloud")
    try:
        bad_route = {"vpn_issue": {"project": "NOPE"}}
        jira = {"url": fake.url, "email": CLOUD_EMAIL, "api_token": CLOUD_TOKEN, "timeout_seconds": 2}
        s = Services(make_settings(database_url, ticketing={"backend": "jira",
                                                            "jira": {**jira, "intent_routes": bad_route}}),
                     migrated_db)
        press(s, "alice", "ticket.submit", {"summary": "VPN down", "details": "x", "category": "vpn_issue"})
        assert deliver_outbox(s).failed == 1 and fake.state.issues == {}
        [told] = notifications(s, "slack:alice")
        assert "couldn't file your ticket" in told.reply["text"] and "saved" in told.reply["text"]

        cfg = tmp_path / "jira.toml"
        cfg.write_text(f'[database]\nurl = "{database_url}"\n[ticketing]\nbackend = "jira"\n'
                       f'[ticketing.jira]\nurl = "{fake.url}"\nemail = "{CLOUD_EMAIL}"\n'
                       f'api_token = "{CLOUD_TOKEN}"\n', encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
        env["HELPDESK_CONFIG"] = str(cfg)

        def run(*args: str) -> dict:
            proc = subprocess.run([sys.executable, "-m", "bot", "tickets", "outbox", *args], cwd=tmp_path,
                                  env=env, capture_output=True, text=True, timeout=120)
            assert proc.returncode == 0, proc.stderr
            assert CLOUD_TOKEN not in proc.stdout + proc.stderr
            return json.loads(proc.stdout)

        [row] = run("--json")["rows"]
        assert row["status"] == "failed" and "project" in row["last_error"]
        out = run("--retry", str(row["id"]), "--deliver", "--json")
        assert out["delivered_now"] == 1 and out["rows"] == []
        [issue] = fake.state.issues.values()
        assert issue["key"] == "IT-1"
        assert [n for n in notifications(s, "slack:alice") if "Your ticket is now IT-1" in n.reply["text"]]
        assert fake.state.violations == []
    finally:
        fake.stop()
