"""`helpdesk report`: the analytics dashboard's figures in the terminal, as JSON, HTML or CSV files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from bot.cli import common
from bot.cli.common import console, print_json, user_errors
from bot.errors import DataError

TREND_TERMINAL = (("bucket", "{by}"), ("conversations", "convs"), ("answered", "answered"),
                  ("deflected", "deflected"), ("declined", "declined"), ("escalated", "tickets"),
                  ("account_actions", "actions"))


def register(app: typer.Typer) -> None:
    """Add `helpdesk report` to the root command."""
    app.command("report")(report)


@user_errors
def report(
    since: str = typer.Option("7d", "--since", help="First day (YYYY-MM-DD) or the last N days, e.g. 7d, 30d."),
    until: str | None = typer.Option(None, "--until", help="Last day included (YYYY-MM-DD; default today, UTC)."),
    by: str = typer.Option("day", "--by", help="Trend buckets: day or week (weeks start on Monday)."),
    as_json: bool = typer.Option(False, "--json", help="Print every figure as JSON (stable keys, for scripts)."),
    html: Path | None = typer.Option(None, "--html", help="Also write a self-contained HTML page to this file."),
    csv_dir: Path | None = typer.Option(None, "--csv", help="Also write one CSV file per figure into this folder."),
    gaps: bool = typer.Option(True, "--gaps/--no-gaps", help="Include the top gaps (loads the sentence encoder)."),
) -> None:
    """Conversations, deflection, declines, tickets, account actions, CSAT, ratings, top intents/articles/gaps."""
    from bot.analytics.html import render_page
    from bot.analytics.period import parse_period
    from bot.analytics.service import build_report
    from bot.analytics.tables import tables

    period = parse_period(since, until, by)
    services = common.open_services()
    data = build_report(services, period, with_gaps=gaps)
    written: list[str] = []
    if html is not None:
        _write(html, render_page(data))
        written.append(str(html))
    if csv_dir is not None:
        try:
            csv_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"--csv: cannot create the folder ({exc.strerror}).", path=str(csv_dir)) from None
        for name, table in tables(data).items():
            _write(csv_dir / f"{name}.csv", table.to_csv())
        written.append(f"{csv_dir}/*.csv")
    if as_json:
        print_json(data)
        return
    _print(data)
    for path in written:
        console.print(f"Wrote {path}", highlight=False, markup=False)


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise DataError(f"cannot write the file ({exc.strerror}).", path=str(path)) from None


def _print(data: dict[str, Any]) -> None:
    from bot.analytics.html import ACTION_NAMES, tiles
    from bot.analytics.tables import percent
    from bot.cli.tickets import rows_out

    p = data["period"]
    console.print(f"Helpdesk report {p['since']} to {p['until']} (UTC), per {p['by']}", highlight=False,
                  markup=False, style="bold")
    console.print(highlight=False)
    for t in tiles(data):
        console.print(f"  {t['label']:<16} {t['value']:>6}  {t['note']}", highlight=False, markup=False)
    for note in data["notes"]:
        console.print(f"Note: {note}", highlight=False, markup=False)
    console.print(highlight=False)
    headers = tuple(h.format(by=p["by"]) for _, h in TREND_TERMINAL)
    rows_out(f"Per {p['by']}", headers, [tuple(str(r[k]) for k, _ in TREND_TERMINAL) for r in data["trend"]])
    rows_out("Account actions", ("action", "result", "count"),
             [(ACTION_NAMES.get(a["action"], a["action"]), a["result"], str(a["count"]))
              for a in data["account_actions"]], empty="Account actions: none.")
    c = data["csat"]
    if c["ratings"]:
        spread = ", ".join(f"{k}: {n}" for k, n in sorted(c["distribution"].items(), reverse=True))
        console.print(f"Ticket ratings: {c['ratings']}, CSAT {percent(c['csat'])}, average {c['average']} "
                      f"({spread})", highlight=False, markup=False)
    rows_out("Top intents", ("intent", "turns"), [(i["intent"], str(i["count"])) for i in data["top_intents"]],
             empty="Top intents: none.")
    rows_out("Top articles", ("article", "answers", "helpful", "not helpful"),
             [(a["title"], str(a["answers"]), str(a["helpful"]), str(a["not_helpful"]))
              for a in data["top_articles"]], empty="Top articles: none.")
    rows_out("Top gaps", ("topic", "questions", "nearest article"),
             [(g["topic"], str(g["count"]), g["nearest_title"] or "") for g in data["top_gaps"]],
             empty="Top gaps: none.")
