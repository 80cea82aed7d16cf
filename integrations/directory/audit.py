"""The audit log (who, which account, what, result, when — never a password) and rate limits."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.redact import redact
from bot.storage.base import utcnow
from integrations.directory.models import DirectoryAudit, RateCounter

log = logging.getLogger("helpdesk.audit")


def record(session: Session, *, actor: str, action: str, result: str, email: str | None = None,
           account: str | None = None, detail: str | None = None) -> DirectoryAudit:
    """Add one audit row in the caller's transaction (and log it without secrets)."""
    row = DirectoryAudit(actor=actor, action=action, result=result, email=email, account=account,
                         detail=redact(detail)[:1000] if detail else None)
    session.add(row)
    log.info("directory audit: actor=%s action=%s result=%s account=%s", actor, action, result,
             account or "-")
    return row


def recent(session: Session, *, limit: int = 50, actor: str | None = None,
           action: str | None = None) -> list[DirectoryAudit]:
    """The newest audit entries, optionally of one requester (``actor``) or one ``action``."""
    stmt = select(DirectoryAudit).order_by(DirectoryAudit.id.desc()).limit(limit)
    if actor:
        stmt = stmt.where(DirectoryAudit.actor == actor)
    if action:
        stmt = stmt.where(DirectoryAudit.action == action)
    return list(session.scalars(stmt).all())


def window_start(now: dt.datetime, window: dt.timedelta) -> dt.datetime:
    """The start of the fixed ``window``-long bucket that ``now`` falls in (the same on every replica)."""
    epoch = dt.datetime(2000, 1, 1)
    seconds = int(window.total_seconds())
    elapsed = int((now - epoch).total_seconds())
    return epoch + dt.timedelta(seconds=elapsed - elapsed % seconds)


def count(session: Session, key: str, window: dt.timedelta, now: dt.datetime | None = None) -> int:
    """How many events ``key`` has counted in the current window."""
    start = window_start(now or utcnow(), window)
    value = session.scalar(select(RateCounter.count).where(RateCounter.key == key,
                                                           RateCounter.window_start == start))
    return int(value or 0)


def count_outside(session: Session, key: str, window: dt.timedelta) -> int:
    """:func:`count` read on a connection of its own on SQLite, so ``session`` takes no read snapshot.

    SQLite: a transaction that has read keeps its snapshot; if another turn commits before
    this one writes, the write fails at once ("database is locked"). Reading the counter on
    the side keeps the turn's first read *after* the directory call (see bot/flows/account.py).
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return count(session, key, window)
    start = window_start(utcnow(), window)
    with bind.engine.connect() as conn:
        value = conn.execute(select(RateCounter.count).where(RateCounter.key == key,
                                                              RateCounter.window_start == start)).scalar()
    return int(value or 0)


def hit(session: Session, key: str, limit: int, window: dt.timedelta,
        now: dt.datetime | None = None) -> bool:
    """Count one event for ``key``; False (and not counted) when ``limit`` is already reached.

    The increment is one conditional UPDATE (``count < limit``), so concurrent requests
    (threads, replicas) can neither lose a count nor both take the last one.
    """
    start = window_start(now or utcnow(), window)
    exists = select(RateCounter.id).where(RateCounter.key == key, RateCounter.window_start == start)
    if session.scalars(exists).first() is None:
        row = RateCounter(key=key, window_start=start, count=0)
        try:
            with session.begin_nested():
                session.add(row)
            session.expunge(row)  # the UPDATE below changes it behind the ORM's back: keep no stale copy
        except IntegrityError:  # a concurrent request created it
            pass
    won = cast(CursorResult[Any], session.execute(
        update(RateCounter)
        .where(RateCounter.key == key, RateCounter.window_start == start, RateCounter.count < limit)
        .values(count=RateCounter.count + 1)
        .execution_options(synchronize_session=False))).rowcount
    return won == 1
