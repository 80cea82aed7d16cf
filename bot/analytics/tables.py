"""The report as tables: one per figure, shared by the CSV downloads, `helpdesk report --csv` and
the CLI's text output (so a CSV row always matches what the page and the terminal show)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from bot.errors import InvalidInputError


@dataclass(frozen=True)
class Table:
    """One figure as a titled table (cells are plain values; ``None`` is an empty cell)."""

    name: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def to_csv(self) -> str:
        """The table as CSV text (a header row, then one row per line)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.headers)
        writer.writerows([[_cell(v) for v in row] for row in self.rows])
        return out.getvalue()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell; text an employee typed that a spreadsheet would run as a formula is quoted with ``'``."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


SUMMARY_LABELS = {
    "conversations": "Conversations", "turns": "Turns", "answered": "Answered", "deflected": "Deflected",
    "deflection_rate": "Deflection rate", "declined": "Declined", "escalated": "Escalated (tickets opened)",
    "account_actions": "Account actions", "account_actions_ok": "Account actions done",
    "ticket_ratings": "Ticket ratings", "csat": "CSAT", "helpful": "Rated helpful",
    "not_helpful": "Rated not helpful", "helpful_rate": "Helpful rate",
}
TREND_COLUMNS = ("bucket", "conversations", "turns", "answered", "deflected", "declined", "escalated",
                 "account_actions", "helpful", "not_helpful")


def tables(report: dict[str, Any]) -> dict[str, Table]:
    """Every figure of ``report`` (from :func:`bot.analytics.figures.compute`) as a table, by name."""
    s, c, r = report["summary"], report["csat"], report["answer_ratings"]
    found = [
        Table("summary", "Summary", ("figure", "value"), [(k, s[k]) for k in SUMMARY_LABELS]),
        Table("trend", f"Per {report['period']['by']}", TREND_COLUMNS,
              [tuple(row[k] for k in TREND_COLUMNS) for row in report["trend"]]),
        Table("account_actions", "Account actions", ("action", "result", "count"),
              [(a["action"], a["result"], a["count"]) for a in report["account_actions"]]),
        Table("csat", "Ticket ratings (CSAT)", ("rating", "tickets"),
              [(k, n) for k, n in c["distribution"].items()]),
        Table("answer_ratings", "Answer ratings", ("rating", "count"),
              [("helpful", r["helpful"]), ("not_helpful", r["not_helpful"])]),
        Table("top_intents", "Top intents", ("intent", "turns"),
              [(i["intent"], i["count"]) for i in report["top_intents"]]),
        Table("top_articles", "Top articles", ("article_id", "title", "answers", "helpful", "not_helpful"),
              [(a["article_id"], a["title"], a["answers"], a["helpful"], a["not_helpful"])
               for a in report["top_articles"]]),
        Table("top_gaps", "Top gaps", ("topic", "questions", "declined", "unhelpful", "nearest_article"),
              [(g["topic"], g["count"], g["declined"], g["unhelpful"], g["nearest_article"])
               for g in report["top_gaps"]]),
    ]
    return {t.name: t for t in found}


NAMES = ("summary", "trend", "account_actions", "csat", "answer_ratings", "top_intents", "top_articles", "top_gaps")


def table(report: dict[str, Any], name: str) -> Table:
    """One figure's table, or a user-safe error naming the figures there are."""
    found = tables(report)
    if name not in found:
        raise InvalidInputError(f"figure: there is no figure {name[:40]!r}; try one of {', '.join(NAMES)}.")
    return found[name]


def percent(value: float | None) -> str:
    """A rate as people read it: ``0.755`` → ``76%``, no data → ``–``."""
    return "–" if value is None else f"{round(value * 100)}%"
