"""The declarative base every table of the product derives from, and how its (naive UTC) moments are read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Shared metadata with a stable constraint-naming convention (for Alembic)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def utcnow() -> dt.datetime:
    """Timezone-aware current UTC time (stored as naive UTC for SQLite/PostgreSQL parity)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def minute_stamp(at: dt.datetime | None) -> str:
    """A stored moment as staff read it, to the minute: ``2024-05-01 09:30`` (empty for no moment)."""
    if at is None:
        return ""
    return (at.astimezone(dt.UTC) if at.tzinfo else at).strftime("%Y-%m-%d %H:%M")  # stored times are naive UTC
