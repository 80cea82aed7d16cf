"""The period a report covers: ``[since, until)`` in naive UTC, bucketed by day or by ISO week (Monday)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.errors import InvalidInputError
from bot.storage.base import utcnow

BUCKETS = ("day", "week")
MAX_DAYS = 3660  # ten years: a longer period is a typo, not a report
_RELATIVE = re.compile(r"^(\d{1,4})d$")


@dataclass(frozen=True)
class Period:
    """Whole UTC days from ``since`` (included) to ``until`` (excluded), counted per ``by`` bucket."""

    since: dt.datetime
    until: dt.datetime
    by: str = "day"

    @property
    def last_day(self) -> dt.date:
        """The last day the period includes."""
        return (self.until - dt.timedelta(days=1)).date()

    def bucket_of(self, day: dt.date) -> dt.date:
        """The bucket a day falls in: the day itself, or the Monday of its week."""
        return day if self.by == "day" else day - dt.timedelta(days=day.weekday())

    def buckets(self) -> list[dt.date]:
        """Every bucket of the period in order, including empty ones (a week may start before ``since``)."""
        out: list[dt.date] = []
        day = self.since.date()
        while day < self.until.date():
            b = self.bucket_of(day)
            if not out or out[-1] != b:
                out.append(b)
            day += dt.timedelta(days=1)
        return out

    def to_dict(self) -> dict[str, str]:
        """The period as stable JSON keys (``until`` is the last day included)."""
        return {"since": self.since.date().isoformat(), "until": self.last_day.isoformat(), "by": self.by}


def parse_day(value: str, field: str) -> dt.date:
    """``YYYY-MM-DD`` → a date, or a user-safe error naming ``field``."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInputError(f"{field}: expected a date as YYYY-MM-DD or a number of days like 7d, "
                                f"got {value.strip()[:40]!r}.") from None


def parse_period(since: str | None = "7d", until: str | None = None, by: str | None = "day",
                 today: dt.date | None = None) -> Period:
    """A period from user input: ``since`` is ``YYYY-MM-DD`` or ``Nd`` (the last N days, today included);
    ``until`` is the last day included (``YYYY-MM-DD``, default today); ``by`` is ``day`` or ``week``."""
    today = today or utcnow().date()
    by = (by or "day").strip().lower()
    if by not in BUCKETS:
        raise InvalidInputError(f"by: expected day or week, got {by[:20]!r}.")
    last = parse_day(until, "until") if until else today
    text = (since or "7d").strip().lower()
    m = _RELATIVE.match(text)
    if m:
        days = int(m.group(1))
        if days < 1:
            raise InvalidInputError("since: the number of days must be at least 1 (e.g. 7d).")
        first = last - dt.timedelta(days=days - 1)
    else:
        first = parse_day(text, "since")
    if first > last:
        raise InvalidInputError(f"since: {first.isoformat()} is after until ({last.isoformat()}).")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInputError(f"since: a period of at most {MAX_DAYS} days, please.")
    start = dt.datetime.combine(first, dt.time())
    return Period(since=start, until=dt.datetime.combine(last + dt.timedelta(days=1), dt.time()), by=by)
