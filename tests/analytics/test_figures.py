"""Every dashboard figure on the crafted dataset (tests/analytics/conftest.py), with hand-worked values."""

from __future__ import annotations

import datetime as dt
import gc

import pytest

from bot.analytics import figures
from bot.analytics.gaps import top_gaps
from bot.analytics.period import parse_period
from bot.errors import InvalidInputError
from tests.analytics.conftest import PRINTING, SINCE, UNTIL, VPN, WordEncoder


@pytest.fixture(scope="module")
def by_day(crafted_db):
    with crafted_db.session() as session:
        return figures.compute(session, parse_period(SINCE, UNTIL, "day"))


@pytest.fixture(scope="module")
def by_week(crafted_db):
    with crafted_db.session() as session:
        return figures.compute(session, parse_period(SINCE, UNTIL, "week"))


def day(report, bucket):
    (row,) = [r for r in report["trend"] if r["bucket"] == bucket]
    return row


def test_conversations_start_after_30_idle_minutes_and_belong_to_the_period_of_their_first_turn(by_day):
    # u1 u2 u3 u4 one each; u5 twice (45 min apart); u6 at the first and the last second; u8 twice (a day
    # apart); u10's two turns exactly 30 min apart are one; u7's turn at 00:05 continues a conversation begun
    # at 23:50 the day before; the trial is left out
    assert by_day["summary"]["conversations"] == 11
    assert [(r["bucket"], r["conversations"]) for r in by_day["trend"] if r["conversations"]] == [
        ("2026-11-30", 1), ("2026-12-01", 3), ("2026-12-02", 1), ("2026-12-03", 2), ("2026-12-06", 1),
        ("2026-12-07", 1), ("2026-12-09", 1), ("2026-12-13", 1)]
    assert by_day["summary"]["turns"] == 15  # u7's continuing turn counts as a turn, not a conversation


def test_deflection_ticket_after_23_hours_counts_against_it_after_25_hours_not(by_day):
    # answered: u1 (ticket 23 h later), u2 (ticket 25 h later), u3 (rated not helpful), u4 (helpful; a not
    # helpful rating of another article), u8 twice → deflected: u2, u4, u8, u8
    s = by_day["summary"]
    assert (s["answered"], s["deflected"], s["deflection_rate"]) == (6, 4, 0.6667)
    assert (day(by_day, "2026-12-01")["answered"], day(by_day, "2026-12-01")["deflected"]) == (3, 1)
    assert (day(by_day, "2026-12-02")["answered"], day(by_day, "2026-12-02")["deflected"]) == (1, 1)


def test_declined_counts_declined_turns_inside_the_period(by_day):
    assert by_day["summary"]["declined"] == 2  # the third one, on 12-14, is after the period
    assert day(by_day, "2026-12-03")["declined"] == 2


def test_escalated_counts_tickets_opened_in_the_period(by_day):
    # IT-1, IT-2 (12-02), IT-3, IT-4 (12-03), IT-6 (12-05); IT-5 was opened before, IT-7 at 12-14 00:00:00
    assert by_day["summary"]["escalated"] == 5
    assert [(r["bucket"], r["escalated"]) for r in by_day["trend"] if r["escalated"]] == [
        ("2026-12-02", 2), ("2026-12-03", 2), ("2026-12-05", 1)]


def test_account_actions_by_action_and_result_without_lookups(by_day):
    assert by_day["account_actions"] == [
        {"action": "unlock", "result": "ok", "count": 2},
        {"action": "unlock", "result": "not_locked", "count": 1},
        {"action": "reset_link", "result": "ok", "count": 1},
    ]
    assert (by_day["summary"]["account_actions"], by_day["summary"]["account_actions_ok"]) == (4, 3)


def test_csat_counts_each_rated_ticket_once_with_its_current_rating_when_last_rated(by_day):
    # IT-3 rated 5, IT-4 rated 2, IT-5 re-rated 1 → 4 inside the period; IT-6 rated after it
    c = by_day["csat"]
    assert c == {"ratings": 3, "satisfied": 2, "csat": 0.6667, "average": 3.67,
                 "distribution": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1}}
    assert by_day["summary"]["csat"] == 0.6667


def test_answer_ratings_count_the_periods_helpful_and_not_helpful_votes(by_day):
    assert by_day["answer_ratings"] == {"helpful": 1, "not_helpful": 2, "helpful_rate": 0.3333}
    assert (day(by_day, "2026-12-01")["not_helpful"], day(by_day, "2026-12-02")["helpful"]) == (1, 1)


def test_top_intents_and_articles_leave_out_trials_and_other_periods(by_day):
    assert by_day["top_intents"] == [{"intent": "vpn_setup", "count": 4}, {"intent": "greet", "count": 3},
                                     {"intent": "printing", "count": 2}, {"intent": "ticket_status", "count": 2}]
    assert by_day["top_articles"] == [
        {"article_id": VPN, "title": "Connecting to the VPN", "answers": 4, "helpful": 0, "not_helpful": 1},
        {"article_id": PRINTING, "title": PRINTING, "answers": 2, "helpful": 1, "not_helpful": 1},
    ]


def test_week_buckets_start_on_monday_sunday_and_monday_fall_apart(by_week):
    assert [r["bucket"] for r in by_week["trend"]] == ["2026-11-30", "2026-12-07"]
    first, second = by_week["trend"]
    assert first == {"bucket": "2026-11-30", "conversations": 8, "turns": 11, "answered": 5, "deflected": 3,
                     "declined": 2, "escalated": 5, "account_actions": 3, "helpful": 1, "not_helpful": 2}
    assert second == {"bucket": "2026-12-07", "conversations": 3, "turns": 4, "answered": 1, "deflected": 1,
                      "declined": 0, "escalated": 0, "account_actions": 1, "helpful": 0, "not_helpful": 0}
    assert by_week["summary"] == {**by_week["summary"], "conversations": 11, "answered": 6, "deflected": 4}


def test_daily_trend_lists_every_day_of_the_period_even_empty_ones(by_day):
    assert len(by_day["trend"]) == 14
    assert day(by_day, "2026-12-10") == {"bucket": "2026-12-10", **{k: 0 for k in figures.TREND_KEYS}}


def test_a_period_with_nothing_in_it_has_zeros_and_no_rates(crafted_db):
    with crafted_db.session() as session:
        empty = figures.compute(session, parse_period("2025-01-01", "2025-01-07"))
    assert empty["summary"]["conversations"] == 0
    assert empty["summary"]["deflection_rate"] is None and empty["csat"]["csat"] is None
    assert empty["top_intents"] == [] and empty["account_actions"] == []


def test_top_gaps_group_the_periods_declined_and_not_helpful_questions(crafted_db):
    with crafted_db.session() as session:
        gaps = top_gaps(session, parse_period(SINCE, UNTIL), WordEncoder)
    assert [(g["count"], g["declined"], g["unhelpful"]) for g in gaps] == [(2, 2, 0), (1, 0, 1), (1, 0, 1)]
    assert set(gaps[0]["examples"]) == {"the coffee machine is broken", "coffee machine broken again"}
    # the newest first among equals; the 12-14 decline and the 12-20 rating are after the period
    assert [g["examples"] for g in gaps[1:]] == [["vpn keeps dropping"], ["the printer jams"]]


def test_period_input_relative_days_and_inclusive_until():
    p = parse_period("7d", "2026-12-13", "week")
    assert (p.since, p.until, p.by) == (dt.datetime(2026, 12, 7), dt.datetime(2026, 12, 14), "week")
    assert p.to_dict() == {"since": "2026-12-07", "until": "2026-12-13", "by": "week"}
    assert parse_period("1d", today=dt.date(2026, 12, 7)).since == dt.datetime(2026, 12, 7)


@pytest.mark.parametrize(("since", "until", "by", "field"), [
    ("yesterday", None, "day", "since"), ("2026-12-10", "2026-12-01", "day", "since"),
    ("7d", "12/01/2026", "day", "until"), ("7d", None, "month", "by"), ("0d", None, "day", "since"),
])
def test_bad_period_input_is_refused_naming_the_field(since, until, by, field):
    with pytest.raises(InvalidInputError) as err:
        parse_period(since, until, by)
    assert err.value.user_message.startswith(f"{field}:")


def test_csv_cells_an_employee_typed_never_run_as_spreadsheet_formulas():
    from bot.analytics.tables import Table

    text = Table("t", "T", ("topic", "count"), [("=HYPERLINK(\"http://x\")", 2), ("@SUM(A1)", 1), ("vpn", 3)]).to_csv()
    assert text.splitlines() == ["topic,count", '"\'=HYPERLINK(""http://x"")",2', "'@SUM(A1),1", "vpn,3"]


def test_charts_are_accessible_svg_without_style_attributes(by_day):
    from bot.analytics.html import chart_svgs

    for name, svg in chart_svgs(by_day).items():
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg, name
        assert "style=" not in svg and "<script" not in svg, name
    assert ">Unlock: ok</text>" in chart_svgs(by_day)["account_actions"]  # labels are text, not colour alone


def test_each_bot_computes_its_own_gaps_even_at_a_freed_bots_address(make_settings, database_url, migrated_db,
                                                                      monkeypatch):
    """Remembered gaps belong to one bot: a new one (same data) never gets another's, whatever its id()."""
    from bot.analytics import gaps
    from bot.services import Services

    computed: list[int] = []

    def fake_top_gaps(*_args, **_kwargs):
        computed.append(1)
        return [{"topic": f"computation {len(computed)}"}]

    monkeypatch.setattr(gaps, "top_gaps", fake_top_gaps)
    period = parse_period(SINCE, UNTIL)
    for n in range(1, 41):
        services = Services(make_settings(database_url), migrated_db)
        with migrated_db.session() as session:
            first = gaps.gaps_for(services, session, period)
            again = gaps.gaps_for(services, session, period)  # the same bot looking again: remembered
        assert first == again == [{"topic": f"computation {n}"}]
        del services
        gc.collect()  # frees it now: the next bot is likely to be built at its address
