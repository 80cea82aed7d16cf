"""The report as HTML: tiles, SVG charts and tables. One body serves the console's dashboard and the
self-contained page of `helpdesk report --html` (which inlines the same stylesheet)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from bot.analytics import charts
from bot.analytics.tables import percent

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = TEMPLATES / "report.css"
TREND_SERIES = (("Conversations", "conversations"), ("Answered", "answered"), ("Deflected", "deflected"),
                ("Declined", "declined"), ("Escalated", "escalated"))
ACTION_NAMES = {"unlock": "Unlock", "reset_link": "Reset link", "temporary_password": "Temporary password",
                "reset": "Password reset"}

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def tiles(report: dict[str, Any]) -> list[dict[str, str]]:
    """The headline figures: label, big value, and a line saying what it counts."""
    s, c = report["summary"], report["csat"]
    return [
        {"label": "Conversations", "value": str(s["conversations"]), "note": f"{s['turns']} turns"},
        {"label": "Deflection", "value": percent(s["deflection_rate"]),
         "note": f"{s['deflected']} of {s['answered']} answers"},
        {"label": "Declined", "value": str(s["declined"]), "note": "“I don't know” replies"},
        {"label": "Escalated", "value": str(s["escalated"]), "note": "tickets opened"},
        {"label": "Account actions", "value": str(s["account_actions"]),
         "note": f"{s['account_actions_ok']} succeeded"},
        {"label": "CSAT", "value": percent(s["csat"]),
         "note": f"{c['satisfied']} of {c['ratings']} ticket ratings 4–5"},
        {"label": "Answers helpful", "value": percent(s["helpful_rate"]),
         "note": f"{s['helpful']} helpful, {s['not_helpful']} not"},
    ]


def chart_svgs(report: dict[str, Any]) -> dict[str, Markup]:
    """Every chart of the report as SVG markup (all text in it is escaped by :mod:`bot.analytics.charts`)."""
    rows, by = report["trend"], report["period"]["by"]
    buckets = [r["bucket"] for r in rows]
    c, r = report["csat"], report["answer_ratings"]
    title = f"Conversations and outcomes per {by}"
    series = [(name, [row[key] for row in rows]) for name, key in TREND_SERIES]
    svgs = {
        # two drawings of one chart: the page shows the wide one on screens wider than 40rem, else the narrow
        "trend": charts.line_chart("chart-trend", title, buckets, series, css_class="chart chart-wide") + "\n"
        + charts.line_chart("chart-trend-narrow", title, buckets, series, width=360, legend_columns=2,
                            css_class="chart chart-narrow"),
        "account_actions": charts.bar_chart(
            "chart-actions", "Account actions by result",
            [(f"{ACTION_NAMES.get(a['action'], a['action'])}: {a['result']}", a["count"])
             for a in report["account_actions"]]),
        "csat": charts.bar_chart("chart-csat", "Ticket ratings (5 = very satisfied)",
                                 [(f"Rated {k}", n) for k, n in sorted(c["distribution"].items(), reverse=True)]
                                 if c["ratings"] else []),
        "answer_ratings": charts.bar_chart("chart-ratings", "Answer ratings",
                                           [("Helpful", r["helpful"]), ("Not helpful", r["not_helpful"])]
                                           if r["helpful"] + r["not_helpful"] else []),
        "top_intents": charts.bar_chart("chart-intents", "Top intents (turns)",
                                        [(i["intent"], i["count"]) for i in report["top_intents"]]),
        "top_articles": charts.bar_chart("chart-articles", "Top articles (answers given)",
                                         [(a["title"], a["answers"]) for a in report["top_articles"]]),
        "top_gaps": charts.bar_chart("chart-gaps", "Top gaps (questions)",
                                     [(g["topic"], g["count"]) for g in report["top_gaps"]]),
    }
    return {name: Markup(svg) for name, svg in svgs.items()}  # noqa: S704 - built from escaped parts


def render_body(report: dict[str, Any], csv_href: Callable[[str], str] | None = None) -> Markup:
    """The report's sections; ``csv_href(figure)`` gives each section's CSV download link (none: no links)."""
    html = _env.get_template("body.html").render(
        report=report, tiles=tiles(report), charts=chart_svgs(report), csv_href=csv_href, percent=percent,
        action_names=ACTION_NAMES)
    return Markup(html)  # noqa: S704 - rendered by an autoescaping environment


def stylesheet() -> str:
    """The report's stylesheet (served by the console, inlined in the standalone page)."""
    return STYLESHEET.read_text(encoding="utf-8")


def render_page(report: dict[str, Any]) -> str:
    """A self-contained HTML page of the report (inline CSS and SVG, nothing fetched)."""
    return _env.get_template("report.html").render(report=report, body=render_body(report),
                                                    css=Markup(stylesheet()))  # noqa: S704 - our own file
