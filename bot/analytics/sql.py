"""Portable SQL for the figures: the bucket a timestamp falls in and seconds since the epoch,
compiled for SQLite and PostgreSQL (the two databases the product runs on)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class day_of(FunctionElement[str]):  # noqa: N801 - reads like a SQL function
    """``YYYY-MM-DD`` of a naive UTC timestamp."""

    type = String()
    inherit_cache = True


class week_of(FunctionElement[str]):  # noqa: N801
    """``YYYY-MM-DD`` of the Monday of a timestamp's ISO week."""

    type = String()
    inherit_cache = True


class epoch(FunctionElement[float]):  # noqa: N801
    """Seconds since 1970-01-01 of a naive UTC timestamp (for "within 24 hours" and "30 minutes idle")."""

    type = Float()
    inherit_cache = True


@compiles(day_of, "sqlite")
def _day_sqlite(element: day_of, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(day_of, "postgresql")
def _day_pg(element: day_of, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


@compiles(week_of, "sqlite")
def _week_sqlite(element: week_of, compiler: Any, **kw: Any) -> str:
    # 'weekday 0' moves forward to Sunday (or stays on it); six days back is that week's Monday
    return f"date({compiler.process(element.clauses, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_of, "postgresql")
def _week_pg(element: week_of, compiler: Any, **kw: Any) -> str:
    return f"to_char(date_trunc('week', {compiler.process(element.clauses, **kw)}), 'YYYY-MM-DD')"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: Any, **kw: Any) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch, "postgresql")
def _epoch_pg(element: epoch, compiler: Any, **kw: Any) -> str:
    return f"extract(epoch from {compiler.process(element.clauses, **kw)})"


def bucket(column: Any, by: str) -> ColumnElement[str]:
    """The bucket expression (day or ISO week) of a timestamp column."""
    return week_of(column) if by == "week" else day_of(column)


# SQLite's julianday() arithmetic is exact to about a millisecond: a gap of exactly 30 minutes must read
# the same on both databases, so the comparisons below allow one millisecond
TOLERANCE = 0.001


def seconds_between(earlier: Any, later: Any) -> ColumnElement[float]:
    """``later - earlier`` in seconds, on either database."""
    return epoch(later) - epoch(earlier)


def longer_than(earlier: Any, later: Any, seconds: float) -> ColumnElement[bool]:
    """More than ``seconds`` passed from ``earlier`` to ``later`` (to the millisecond)."""
    return seconds_between(earlier, later) > seconds + TOLERANCE


def at_most(earlier: Any, later: Any, seconds: float) -> ColumnElement[bool]:
    """At most ``seconds`` passed from ``earlier`` to ``later`` (to the millisecond)."""
    return seconds_between(earlier, later) <= seconds + TOLERANCE
