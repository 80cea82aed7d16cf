"""Secrets scan after a run: every configured secret searched for in every table of the database and every log."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text


def dump_database(database_url: str) -> dict[str, str]:
    """Every table's rows as text (one string per table)."""
    engine = create_engine(database_url)
    dumps: dict[str, str] = {}
    try:
        names = inspect(engine).get_table_names()
        with engine.connect() as conn:
            for name in names:
                rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
                dumps[name] = "\n".join(repr(tuple(row)) for row in rows)
    finally:
        engine.dispose()
    return dumps


def scan(secrets: Iterable[str], *, database_url: str, logs: Iterable[Path]) -> dict[str, Any]:
    """Where each secret was found (``found`` empty: the scan is clean) and how much was searched."""
    places = dump_database(database_url)
    for path in logs:
        if path.exists():
            places[f"log {path.name} ({path.parent.name})"] = path.read_text(errors="replace")
    found = [f"secret #{n} in {where}" for n, secret in enumerate(secrets) if secret
             for where, content in places.items() if secret in content]
    return {"places_searched": len(places), "bytes_searched": sum(len(c) for c in places.values()),
            "secrets_searched": sum(1 for s in secrets if s), "found": found}
