"""`helpdesk kb …` end to end through the real CLI (Typer), on a scratch SQLite database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import app, common
from tests.knowledge_base.conftest import write

pytestmark = pytest.mark.slow  # loads the sentence encoder


@pytest.fixture
def cli(sqlite_url, articles, tmp_path, monkeypatch, encoder):
    for key in [k for k in __import__("os").environ if k.startswith("HELPDESK_")]:
        monkeypatch.delenv(key)
    config = tmp_path / "helpdesk.toml"
    config.write_text(f'[database]\nurl = "{sqlite_url}"\n[kb]\narticles_dir = "{articles}"\n'
                      f'[paths]\nvar_dir = "{tmp_path / "var"}"\nmodels_dir = "{tmp_path / "models"}"\n')
    runner = CliRunner()

    def run(*args: str):
        common.set_config_path(None)
        return runner.invoke(app, ["--config", str(config), *args])

    return run


def test_import_list_show_history_export(cli, articles, tmp_path):
    first = cli("kb", "import", str(articles), "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["counts"]["created"] == 3
    again = json.loads(cli("kb", "import", str(articles), "--json").output)
    assert again["counts"] == {"created": 0, "updated": 0, "unchanged": 3, "retired": 0, "restored": 0, "errors": 0}
    listed = json.loads(cli("kb", "list", "--json").output)
    assert {a["id"] for a in listed} == {"network/vpn", "help/printing", "it-staff/admin"}
    shown = json.loads(cli("kb", "show", "network/vpn", "--json").output)
    assert shown["text"] == (articles / "network" / "vpn.md").read_text() and shown["path"] == "network/vpn.md"
    (articles / "help" / "printing.md").unlink()
    assert json.loads(cli("kb", "import", str(articles), "--json").output)["retired"] == ["help/printing"]
    history = json.loads(cli("kb", "history", "help/printing", "--json").output)
    assert [h["change"] for h in history] == ["created", "retired"]
    missing = cli("kb", "show", "nope/none")
    assert missing.exit_code == 1 and "No article with id 'nope/none'" in missing.output
    out = tmp_path / "exported"
    assert cli("kb", "export", str(out)).exit_code == 0
    assert (out / "network" / "vpn.md").read_bytes() == (articles / "network" / "vpn.md").read_bytes()
    assert not (out / "help" / "printing.md").exists()


def test_import_reports_bad_files_and_still_imports_the_rest(cli, articles):
    write(articles, "bad.md", "---\ntitle: x\nstatus: live\n---\n")
    result = cli("kb", "import", str(articles))
    assert result.exit_code == 2
    assert "3 new" in result.output and "bad.md:3:" in result.output


def test_lint_exit_code_and_json(cli, articles):
    write(articles, "orphan.md", "---\ntitle: Orphan\n---\nSee [gone](gone.md).\n")
    result = cli("kb", "lint", str(articles), "--json")
    assert result.exit_code == 1
    rules = {(f["rule"], f["path"]) for f in json.loads(result.output)["findings"]}
    assert rules == {("missing-owner", "orphan.md"), ("broken-link", "orphan.md")}


def test_help_is_available_for_every_command(cli):
    for cmd in ("import", "export", "list", "show", "history", "lint", "gaps", "eval"):
        result = cli("kb", cmd, "--help")
        assert result.exit_code == 0 and "Usage" in result.output


def test_gaps_groups_the_declined_questions_of_the_analytics(cli, articles, sqlite_url):
    """The CLI reads the engine's declined turns (within --days) and hands them to gap mining."""
    import datetime as dt

    from bot.storage.base import utcnow
    from bot.storage.models import AnalyticsEvent
    from bot.storage.session import Database

    assert cli("kb", "import", str(articles), "--json").exit_code == 0
    now = utcnow()
    db = Database(sqlite_url)
    with db.session() as s:
        for n, (text, outcome, age) in enumerate([
                ("where can I park my car at the office", "declined", 2),
                ("is there parking for employees", "declined", 1),
                ("how do I book a parking space", "declined", 200),  # older than --days
                ("how do I print", "answered", 1)]):
            s.add(AnalyticsEvent(turn_id=f"t{n}", user_key=f"slack:U{n}", channel="slack", question=text,
                                 outcome=outcome, created_at=now - dt.timedelta(days=age)))
    db.dispose()
    result = cli("kb", "gaps", "--days", "90", "--json")
    assert result.exit_code == 0, result.output
    gaps = json.loads(result.output)["gaps"]
    assert [(g["count"], g["declined"]) for g in gaps] == [(2, 2)]
    assert gaps[0]["examples"] == ["is there parking for employees", "where can I park my car at the office"]


def test_bad_front_matter_in_a_known_file_keeps_its_last_good_version_live(cli, articles):
    """Invalid YAML in an article that imported fine must not retire it (it used to: "1 retired", exit 2)."""
    good = (articles / "network" / "vpn.md").read_text()
    assert cli("kb", "import", str(articles)).exit_code == 0
    (articles / "network" / "vpn.md").write_text(good.replace("tags: [vpn, network]", "tags: [vpn, network"))
    result = cli("kb", "import", str(articles))
    assert result.exit_code == 2
    assert "0 retired" in result.output and "network/vpn.md:" in result.output
    assert "last good version stays live" in result.output
    listed = {a["id"]: a for a in json.loads(cli("kb", "list", "--all", "--json").output)}
    assert listed["network/vpn"]["retired"] is False
    assert json.loads(cli("kb", "show", "network/vpn", "--json").output)["text"] == good
    lint = cli("kb", "lint", str(articles), "--json")
    assert lint.exit_code == 1
    (error,) = json.loads(lint.output)["errors"]
    assert error["path"] == "network/vpn.md" and error["kept_live"] is True and error["line"]
    assert "last good version stays live" in error["message"]
