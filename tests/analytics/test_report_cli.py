"""`helpdesk report` on the crafted dataset: readable at 80 columns, stable JSON keys, a self-contained
HTML page and one CSV per figure, all with the same numbers as the figures module."""

from __future__ import annotations

import csv
import json
import os

import pytest
from typer.testing import CliRunner

from tests.analytics.conftest import SINCE, UNTIL

PERIOD = ["--since", SINCE, "--until", UNTIL]


@pytest.fixture(scope="module")
def helpdesk(crafted_url, tmp_path_factory):
    """Run `helpdesk …` in-process on the crafted SQLite database (80 columns, not a terminal)."""
    from bot.cli import app

    if not crafted_url.startswith("sqlite"):
        pytest.skip("the CLI runs on the SQLite file database (the figures are tested on both)")
    tmp = tmp_path_factory.mktemp("cli")
    cfg = tmp / "cli.toml"
    cfg.write_text(f'[database]\nurl = "{crafted_url}"\n[paths]\nmodels_dir = "{tmp}/models"\n'
                   f'var_dir = "{tmp}/var"\n', encoding="utf-8")
    mp = pytest.MonkeyPatch()
    for name in [k for k in os.environ if k.startswith("HELPDESK_")]:
        mp.delenv(name)
    mp.setenv("COLUMNS", "80")
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(app, ["--config", str(cfg), "report", *args])
        if ok:
            assert result.exit_code == 0, result.output
        return result

    yield run
    mp.undo()


def test_text_report_reads_at_80_columns(helpdesk):
    out = helpdesk(*PERIOD, "--no-gaps").stdout
    assert all(len(line) <= 80 for line in out.splitlines()), out
    assert "\x1b[" not in out
    assert "Helpdesk report 2026-11-30 to 2026-12-13 (UTC), per day" in out
    flat = " ".join(out.split())
    assert "Conversations 11 15 turns" in flat
    assert "Deflection 67% 4 of 6 answers" in flat
    assert "Escalated 5 tickets opened" in flat
    assert "CSAT 67% 2 of 3 ticket ratings 4–5" in flat
    assert "Connecting to the VPN" in flat and "vpn_setup" in flat
    assert "2026-12-13" in out  # every day of the trend is listed


def test_json_has_stable_keys_and_the_figures(helpdesk):
    data = json.loads(helpdesk(*PERIOD, "--by", "week", "--no-gaps", "--json").stdout)
    assert list(data) == ["period", "definitions", "summary", "trend", "account_actions", "csat",
                          "answer_ratings", "top_intents", "top_articles", "top_gaps", "notes"]
    assert data["period"] == {"since": SINCE, "until": UNTIL, "by": "week"}
    assert set(data["summary"]) == {"conversations", "turns", "answered", "deflected", "deflection_rate", "declined",
                                    "escalated", "account_actions", "account_actions_ok", "ticket_ratings", "csat",
                                    "helpful", "not_helpful", "helpful_rate"}
    assert [(r["bucket"], r["conversations"]) for r in data["trend"]] == [("2026-11-30", 8), ("2026-12-07", 3)]
    assert data["summary"]["deflection_rate"] == 0.6667


def test_html_page_is_self_contained_and_csv_files_match(helpdesk, tmp_path):
    page, folder = tmp_path / "out" / "report.html", tmp_path / "csv"
    out = helpdesk(*PERIOD, "--no-gaps", "--html", str(page), "--csv", str(folder)).stdout
    assert f"Wrote{page}" in "".join(out.split())  # at 80 columns a long path is folded, even inside a name
    html = page.read_text(encoding="utf-8")
    for absent in ("<script", "http://", "https://", "<link", "@import", "url("):
        assert absent not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # the trend is drawn twice (wide and narrow screens)
    assert html.count("<svg") == 8 and html.count("<title id=") == 8 and html.count("<desc id=") == 8
    flat = " ".join(html.split())
    assert '<span class="an-tile-label">Conversations</span> <span class="an-tile-value">11</span>' in flat
    assert '<span class="an-tile-label">Deflection</span> <span class="an-tile-value">67%</span>' in flat
    assert "Connecting to the VPN" in html and "Reset link: ok" in html
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"{n}.csv" for n in ("summary", "trend", "account_actions", "csat", "answer_ratings",
                                                "top_intents", "top_articles", "top_gaps"))
    with (folder / "summary.csv").open(newline="", encoding="utf-8") as f:
        summary = dict(csv.reader(f))
    assert (summary["conversations"], summary["deflected"], summary["escalated"]) == ("11", "4", "5")
    with (folder / "account_actions.csv").open(newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == [["action", "result", "count"], ["unlock", "ok", "2"],
                                       ["unlock", "not_locked", "1"], ["reset_link", "ok", "1"]]


def test_bad_input_names_the_field(helpdesk):
    result = helpdesk("--since", "last week", ok=False)
    assert result.exit_code == 1
    assert "since: expected a date as YYYY-MM-DD or a number of days like 7d" in " ".join(result.output.split())
