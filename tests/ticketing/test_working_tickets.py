"""IT staff work tickets (`helpdesk tickets note|status|priority|category|link|merge|reopen`), and the
employee hears exactly what is meant for them: never an internal note; "waiting", reopen and merge, yes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.messages import Reply
from tests.ticketing.conftest import ask_intent, deliver_outbox, notifications, press


@pytest.fixture
def tickets_cli(tmp_path, make_settings, migrated_db, database_url, monkeypatch):
    """`helpdesk tickets …` in-process on the test database (80 columns, not a terminal)."""
    from bot.cli import common, tickets
    from bot.services import Services

    if not database_url.startswith("sqlite"):
        pytest.skip("the CLI test uses the SQLite file database")
    cfg = tmp_path / "cli.toml"
    cfg.write_text(f'[database]\nurl = "{database_url}"\n[paths]\nmodels_dir = "{tmp_path}/models"\n'
                   f'var_dir = "{tmp_path}/var"\n', encoding="utf-8")
    for name in [k for k in __import__("os").environ if k.startswith("HELPDESK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "80")
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        common.set_config_path(str(cfg))
        result = runner.invoke(tickets.app, list(args))
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run, Services(make_settings(database_url), migrated_db)


def _texts(s, user: str) -> list[str]:
    return [Reply.from_dict(n.reply).text for n in notifications(s, f"slack:{user}")]


def test_internal_note_stays_with_it_and_waiting_asks_the_employee(tickets_cli):
    run, s = tickets_cli
    press(s, "alice", "ticket.submit", {"summary": "Laptop fan is loud", "details": "since Monday"})
    before = _texts(s, "alice")
    run("note", "IT-1", "Probably dust; check warranty before opening it", "--json")
    shown = json.loads(run("show", "IT-1", "--json").stdout)
    assert [(c["body"], c["internal"]) for c in shown["comments"]] == [
        ("Probably dust; check warranty before opening it", True)]
    assert _texts(s, "alice") == before  # the employee hears nothing of a note
    assert "warranty" not in ask_intent(s, "alice", "status of IT-1", "ticket_status").text

    waiting = json.loads(run("status", "IT-1", "waiting", "--json").stdout)
    assert waiting["status"] == "Waiting on employee" and waiting["status_category"] == "open"
    [asked] = [t for t in _texts(s, "alice") if "waiting for your reply" in t]
    assert "IT-1" in asked
    status = ask_intent(s, "alice", "any update on my ticket?", "ticket_status")
    assert status.ticket_key == "IT-1" and "waiting for your reply" in status.text  # one ticket: no "Which?"
    assert "(status" not in status.text


def test_priority_and_category_changes_are_recorded(tickets_cli):
    run, s = tickets_cli
    press(s, "alice", "ticket.submit", {"summary": "VPN drops every hour", "details": "error 812"})
    changed = json.loads(run("priority", "IT-1", "critical", "--json").stdout)
    assert changed["urgency"] == "critical" and changed["priority"] == "Highest"
    assert run("priority", "IT-1", "whenever", ok=False).exit_code == 1
    changed = json.loads(run("category", "IT-1", "vpn_issue", "--json").stdout)
    assert changed["category"] == "vpn_issue"
    shown = json.loads(run("show", "IT-1", "--json").stdout)
    assert "category-vpn_issue" in shown["labels"] and "category-general" not in shown["labels"]
    assert [e["kind"] for e in shown["events"]][-2:] == ["priority", "category"]


def test_merge_keeps_the_duplicates_words_and_tells_its_requester(tickets_cli):
    run, s = tickets_cli
    press(s, "alice", "ticket.submit", {"summary": "Printer on floor 3 jams", "details": "paper jam"})
    press(s, "bob", "ticket.submit", {"summary": "Floor 3 printer broken", "details": "red light blinking"})
    run("link", "IT-1", "IT-2")
    assert json.loads(run("show", "IT-2", "--json").stdout)["links"] == [{"key": "IT-1", "relation": "relates_to"}]
    run("merge", "IT-2", "IT-1")
    dup = json.loads(run("show", "IT-2", "--json").stdout)
    assert dup["status_category"] == "done" and dup["resolution"] == "Duplicate of IT-1"
    assert {"key": "IT-1", "relation": "duplicate_of"} in dup["links"]
    kept = json.loads(run("show", "IT-1", "--json").stdout)
    assert any(c["internal"] and "red light blinking" in c["body"] for c in kept["comments"])
    assert any("IT-2" in t and "Duplicate of IT-1" in t for t in _texts(s, "bob"))
    # bob now takes part in IT-1: he can ask its status
    assert "Printer on floor 3" in ask_intent(s, "bob", "status of IT-1", "ticket_status").text
    assert not any("red light" in t for t in _texts(s, "alice"))


def test_reopen_only_from_resolved_and_the_employee_is_told(tickets_cli):
    run, s = tickets_cli
    press(s, "alice", "ticket.submit", {"summary": "Cannot print", "details": "queue stuck"})
    refused = run("reopen", "IT-1", ok=False)
    assert refused.exit_code == 1 and "not resolved" in refused.output
    run("resolve", "IT-1")
    reopened = json.loads(run("reopen", "IT-1", "--json").stdout)
    assert reopened["status_category"] == "open"
    assert any("reopened your ticket IT-1" in t for t in _texts(s, "alice"))


def test_lists_read_at_80_columns(tickets_cli):
    run, s = tickets_cli
    for n in range(2):
        press(s, f"someone.with.a.long.name{n}", "ticket.submit", {
            "summary": "The shared drive for the finance department is read-only since this morning",
            "details": "x"}, email=f"someone.with.a.long.name{n}@subsidiary.example.com")
    out = run("list").stdout
    assert all(len(line) <= 80 for line in out.splitlines()), out
    assert "IT-1" in out and "IT-2" in out and "subsidiary.example.com" in out
    assert "read-only since this" in " ".join(out.split())
    assert "\x1b[" not in out  # no ANSI codes off a terminal


def test_poor_rating_offers_to_reopen_or_comment(local_services):
    s = local_services
    press(s, "alice", "ticket.submit", {"summary": "Wifi drops in room 4", "details": "every 10 min"})
    with s.db.session() as session:
        from integrations.ticketing import queue

        queue.resolve(session, "IT-1", resolution="Fixed", closing_comment=None, actor="dana", sink=s.notices)
    poor = press(s, "alice", "ticket.rate", {"key": "IT-1", "rating": 1})
    assert [b.action_id for b in poor.buttons] == ["ticket.reopen", "ticket.add_comment"]
    good = press(s, "bob", "ticket.rate", {"key": "IT-1", "rating": 1})
    assert not good.buttons  # not bob's ticket
    asked = press(s, "alice", "ticket.add_comment", {"key": "IT-1"})
    assert "What should IT know" in asked.text
    added = press(s, "alice", "ticket.comment_existing", {"key": "IT-1", "details": "still drops"})
    assert "added to IT-1" in added.text
    reopened = press(s, "alice", "ticket.reopen", {"key": "IT-1"})
    assert "reopened IT-1" in reopened.text
    from tests.ticketing.conftest import tickets

    assert tickets(s)[0].status_category == "open"


def test_jira_internal_note_priority_and_link_reach_jira(jira_services, fake_jira):
    from integrations.ticketing import queue

    s = jira_services
    press(s, "alice", "ticket.submit", {"summary": "Outlook crashes", "details": "on start"})
    press(s, "bob", "ticket.submit", {"summary": "Teams crashes", "details": "on join"})
    deliver_outbox(s)
    keys = sorted(fake_jira.state.issues)
    with s.db.session() as session:
        queue.note(session, keys[0], "user is on the beta channel", author="dana", tracker=s.ticketing)
        queue.set_priority(session, s.settings.ticketing, keys[0], "high", actor="dana", tracker=s.ticketing)
        queue.link(session, keys[0], keys[1], actor="dana", tracker=s.ticketing)
    [note] = fake_jira.state.comments[keys[0]]
    assert "beta channel" in json.dumps(note["body"])
    assert note["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}]
    assert note["visibility"]["type"] == "role"
    assert fake_jira.state.issues[keys[0]]["fields"]["priority"] == {"name": "High"}
    assert fake_jira.state.links == [{"type": "Relates", "inward": keys[0], "outward": keys[1]}]
    assert not any("beta channel" in t for t in _texts(s, "alice"))
