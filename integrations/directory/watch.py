"""Background job: notice locked accounts, offer the employee an unlock, alarm on lockout storms.

``run_once(db, directory, settings, sink)`` is called by the worker every few seconds;
it does a round when ``watch_interval_seconds`` have passed and ``directory.watch_lockouts``
is on. Each newly seen lockout is audited ("lockout_seen"); when the bot knows the owner's
chat identity from an earlier verified conversation, a :class:`LockoutSeen` notice goes to
the sink (deduplicated per lockout). When more than ``lockout_alarm_threshold`` lockouts are
seen within ``lockout_alarm_window_minutes``, the log gets an alarm and the sink one
:class:`LockoutStorm` per window. The sink is called inside this job's transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
import weakref
from collections.abc import Callable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.errors import HelpdeskError
from bot.storage.base import utcnow
from bot.storage.session import Database
from integrations.directory import audit
from integrations.directory.client import Account, LdapDirectory
from integrations.directory.models import DirectoryAudit, RateCounter, ResetLink
from integrations.directory.notices import DirectoryNoticeSink, LockoutSeen, LockoutStorm
from integrations.directory.settings import DirectorySettings

log = logging.getLogger(__name__)

# When each watcher (one per directory client, i.e. per bot process or replica) last ran.
# per database: (which settings ran, when) — another configuration is another watcher. The settings
# object itself is kept, not its id(): a freed object's id is reused by the next one.
_last_run: weakref.WeakKeyDictionary[Database, tuple[DirectorySettings, float]] = weakref.WeakKeyDictionary()
KEEP_COUNTERS = dt.timedelta(days=2)
KEEP_LINKS = dt.timedelta(days=7)


def run_once(db: Database, directory: Callable[[], LdapDirectory | None], settings: DirectorySettings,
             sink: DirectoryNoticeSink) -> int:
    """One round (at most every ``watch_interval_seconds`` per database); returns how many new lockouts were seen.

    ``directory`` is a provider, called only when a round is due: a misconfigured
    directory is reported once per interval, and old counters are purged anyway.
    """
    if not settings.configured:
        return 0
    now = time.monotonic()
    last = _last_run.get(db)
    if last is not None and last[0] is settings and now - last[1] < settings.watch_interval_seconds:
        return 0
    _last_run[db] = (settings, now)
    purge(db)
    if not settings.watch_lockouts:
        return 0
    try:
        client = directory()
        if client is None:
            return 0
        locked = client.locked_accounts()
    except HelpdeskError as exc:
        log.warning("lockout watch: directory not reachable (%s)", exc.detail)
        return 0
    new = 0
    with db.session() as session:
        for account in locked:
            if client.protection_reason(account) is not None:
                continue
            marker = f"{account.dn}"
            seen = session.scalars(select(DirectoryAudit.id).where(
                DirectoryAudit.action == "lockout_seen", DirectoryAudit.account == marker,
                DirectoryAudit.result == "locked")).first()
            if seen is not None:
                continue
            new += 1
            audit.record(session, actor="watcher", action="lockout_seen", result="locked",
                         email=account.email, account=marker)
            session.flush()
            user_key = _known_user_key(session, account)
            if user_key:
                sink.publish(session, LockoutSeen(user_key=user_key, email=account.email, login=account.login,
                                                  dedupe_key=lockout_key(account)))
        # Already-unlocked accounts may lock again later: forget the marker once unlocked.
        locked_dns = {a.dn for a in locked}
        for row in session.scalars(select(DirectoryAudit).where(
                DirectoryAudit.action == "lockout_seen", DirectoryAudit.result == "locked")):
            if row.account not in locked_dns:
                row.result = "cleared"
        _alarm(session, settings, sink)
    return new


def purge(db: Database) -> None:
    """Forget old rate-limit counters and long-expired reset links (the audit log is kept)."""
    now = utcnow()
    with db.session() as session:
        session.execute(delete(RateCounter).where(RateCounter.window_start < now - KEEP_COUNTERS))
        session.execute(delete(ResetLink).where(ResetLink.expires_at < now - KEEP_LINKS))


def lockout_key(account: Account, now: dt.datetime | None = None) -> str:
    """The notification dedupe key of one lockout, the same on every replica.

    Built from the account's DN and the directory's own lockout time, so two bot
    replicas that both notice the lockout queue one DM; without a lockout time the
    hour bucket stands in for it.
    """
    when = account.locked_since or audit.window_start(now or utcnow(), dt.timedelta(hours=1)).isoformat()
    return f"lockout:{hashlib.sha256(account.dn.lower().encode()).hexdigest()[:32]}:{when}"[:200]


def _known_user_key(session: Session, account: Account) -> str | None:
    """The chat identity that last came to the bot with one of this account's verified e-mails."""
    emails = list(account.emails or ((account.email,) if account.email else ()))
    if not emails:
        return None
    return session.scalars(select(DirectoryAudit.actor).where(
        DirectoryAudit.email.in_(emails), DirectoryAudit.actor.notin_(["watcher", "web", "system"]))
        .order_by(DirectoryAudit.id.desc()).limit(1)).first()


def _alarm(session: Session, settings: DirectorySettings, sink: DirectoryNoticeSink) -> None:
    window = dt.timedelta(minutes=settings.lockout_alarm_window_minutes)
    since = utcnow() - window
    count = session.scalar(select(func.count()).select_from(DirectoryAudit).where(
        DirectoryAudit.action == "lockout_seen", DirectoryAudit.created_at >= since)) or 0
    if count < settings.lockout_alarm_threshold:
        return
    bucket = audit.window_start(utcnow(), window)
    already = session.scalars(select(DirectoryAudit.id).where(
        DirectoryAudit.action == "lockout_alarm", DirectoryAudit.created_at >= bucket)).first()
    if already is not None:
        return
    audit.record(session, actor="watcher", action="lockout_alarm", result="raised",
                 detail=f"{count} lockouts in {settings.lockout_alarm_window_minutes} min")
    log.error("LOCKOUT ALARM: %s accounts locked in the last %s minutes (possible password spraying)",
              count, settings.lockout_alarm_window_minutes)
    sink.publish(session, LockoutStorm(count=count, window_minutes=settings.lockout_alarm_window_minutes,
                                       dedupe_key=f"lockout-alarm:{bucket.isoformat()}"))


__all__ = ["KEEP_COUNTERS", "KEEP_LINKS", "lockout_key", "purge", "run_once"]
