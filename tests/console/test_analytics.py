"""The analytics dashboard in a real browser on the crafted dataset (tests/analytics/conftest.py): tiles,
accessible SVG charts, CSV downloads whose rows are the figures, the period picker, and who may see it."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.analytics import figures
from bot.analytics.period import parse_period
from bot.analytics.tables import NAMES, tables
from tests.analytics.conftest import SINCE, UNTIL, WordEncoder, fill
from tests.console.conftest import ADMIN, NOBODY, STAFF, TRAINER, ConsoleStack, build_console_stack, sign_in

QUERY = f"since={SINCE}&until={UNTIL}&by=day"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    """A console of its own holding the crafted rows (the small word encoder stands in for MiniLM)."""
    with build_console_stack(tmp_path_factory.mktemp("analytics-console"), import_kb=False,
                             services_kwargs={"encoder": WordEncoder()}) as st:
        with st.db.session() as session:
            fill(session)
        yield st


def expected(stack: ConsoleStack, by: str = "day") -> dict:
    with stack.db.session() as session:
        return figures.compute(session, parse_period(SINCE, UNTIL, by))


def test_dashboard_tiles_charts_and_a_csv_download_matching_the_figures(stack, page, screenshot, tmp_path):
    sign_in(stack, page, TRAINER)
    page.goto(stack.url(f"/console/analytics?{QUERY}"))
    tiles = {page.locator(".an-tile-label").nth(i).inner_text(): page.locator(".an-tile-value").nth(i).inner_text()
             for i in range(page.locator(".an-tile").count())}
    assert tiles == {"Conversations": "11", "Deflection": "67%", "Declined": "2", "Escalated": "5",
                     "Account actions": "4", "CSAT": "67%", "Answers helpful": "33%"}
    trend = page.get_by_role("img", name="Conversations and outcomes per day")
    assert trend.count() == 1 and trend.is_visible()  # the wide drawing at 1280 px (the narrow one is hidden)
    assert "Conversations: 1, 3, 1, 2, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1" in trend.locator("desc").text_content()
    assert page.get_by_role("img", name="Top gaps (questions)").locator("desc").text_content() == (
        "Top gaps (questions): coffee machine broken: 2; vpn keeps dropping: 1; the printer jams: 1")
    assert page.locator("#an-since").input_value() == SINCE and page.locator("#an-until").input_value() == UNTIL
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the trend as CSV").click()
    path = tmp_path / "trend.csv"
    info.value.save_as(path)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    want = expected(stack)["trend"]
    assert [{k: int(v) if k != "bucket" else v for k, v in r.items()} for r in rows] == want
    assert sum(int(r["conversations"]) for r in rows) == 11
    shots = screenshot(page, "analytics")
    assert all(Path(p).stat().st_size > 10_000 for p in shots)
    page.set_viewport_size({"width": 390, "height": 844})
    narrow = page.get_by_role("img", name="Conversations and outcomes per day")  # the narrow drawing at 390 px
    assert narrow.count() == 1 and "chart-narrow" in (narrow.get_attribute("class") or "")
    assert not page.locator("svg.chart-wide").is_visible()


def test_period_picker_by_week_and_a_bad_date_names_the_field(stack, page):
    sign_in(stack, page, STAFF)
    page.goto(stack.url("/console/analytics"))
    page.locator("#an-since").fill(SINCE)
    page.locator("#an-until").fill(UNTIL)
    page.locator("#an-by").select_option("week")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*by=week.*"))
    assert page.get_by_role("img", name="Conversations and outcomes per week").count() == 1
    assert page.locator(".an-tile-value").first.inner_text() == "11"
    page.goto(stack.url("/console/analytics?since=2026-12-10&until=2026-12-01"))
    assert page.get_by_role("alert").inner_text() == "since: 2026-12-10 is after until (2026-12-01)."
    assert page.locator("#an-since").get_attribute("aria-invalid") == "true"


def test_every_csv_has_the_figures_rows(stack):
    want = tables({**expected(stack), "top_gaps": []})
    with closing(stack.client(ADMIN)) as client:
        for name in NAMES:
            got = client.get(f"/console/analytics/{name}.csv?{QUERY}")
            assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
            assert got.headers["content-disposition"] == (
                f'attachment; filename="helpdesk-{name}-{SINCE}-to-{UNTIL}.csv"')
            rows = list(csv.reader(io.StringIO(got.text)))
            if name == "top_gaps":
                assert [r[:4] for r in rows[1:]] == [["coffee machine broken", "2", "2", "0"],
                                                     ["vpn keeps dropping", "1", "0", "1"],
                                                     ["the printer jams", "1", "0", "1"]]
            else:
                assert rows == [list(want[name].headers)] + [["" if v is None else str(v) for v in r]
                                                             for r in want[name].rows]
        assert client.get(f"/console/analytics/passwords.csv?{QUERY}").status_code == 404
        bad = client.get("/console/analytics/trend.csv?since=soon")
        assert bad.status_code == 400 and bad.text.startswith("since:")


def test_every_console_role_sees_analytics_and_nobody_else(stack):
    for email in (TRAINER, STAFF, ADMIN):
        with closing(stack.client(email)) as client:
            page = client.get("/console/analytics")
            assert page.status_code == 200 and 'href="/console/analytics"' in page.text  # in the nav
    with closing(stack.client(NOBODY)) as client:
        assert client.get("/console/analytics").status_code == 403
        assert client.get(f"/console/analytics/summary.csv?{QUERY}").status_code == 403
    with closing(stack.client()) as client:
        anonymous = client.get("/console/analytics")
        assert anonymous.status_code == 303 and "/console/login" in anonymous.headers["location"]
        assert client.get(f"/console/analytics/trend.csv?{QUERY}").status_code == 303


def test_trials_are_excluded_by_the_channel_try_it_uses():
    from bot.console.pages.tryit_run import TRIAL_CHANNEL

    assert TRIAL_CHANNEL in figures.TRIAL_CHANNELS


def test_top_gaps_are_recomputed_when_a_declined_question_arrives(stack):
    from sqlalchemy import delete

    from bot.storage.models import AnalyticsEvent
    from tests.analytics.conftest import at

    def coffee(client) -> str:
        rows = list(csv.reader(io.StringIO(client.get(f"/console/analytics/top_gaps.csv?{QUERY}").text)))
        return rows[1][1]

    with closing(stack.client(TRAINER)) as client:
        assert coffee(client) == "2" and coffee(client) == "2"  # the second look is remembered
        with stack.db.session() as session:
            session.add(AnalyticsEvent(turn_id="late-coffee", user_key="u11", channel="slack", outcome="declined",
                                       question="coffee machine broken once more", created_at=at("12-10 09:00")))
            session.commit()
        try:
            assert coffee(client) == "3"
        finally:
            with stack.db.session() as session:
                session.execute(delete(AnalyticsEvent).where(AnalyticsEvent.turn_id == "late-coffee"))
                session.commit()
