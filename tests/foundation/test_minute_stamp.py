"""Times as staff read them (transcripts, tickets, gaps, the triage card): one format, always UTC."""

from __future__ import annotations

import datetime as dt

from bot.storage.base import minute_stamp


def test_a_stored_time_reads_to_the_minute_and_an_aware_one_in_utc() -> None:
    assert minute_stamp(dt.datetime(2026, 12, 7, 9, 5, 59)) == "2026-12-07 09:05"
    paris = dt.timezone(dt.timedelta(hours=1))
    assert minute_stamp(dt.datetime(2026, 12, 7, 10, 5, tzinfo=paris)) == "2026-12-07 09:05"
    assert minute_stamp(None) == ""
