"""Background job: notice locked accounts, offer the employee an unlock, alarm on lockout storms.

``run_once(services)`` is called by the worker every few seconds when
``directory.watch_lockouts`` is on. Each newly seen lockout is audited
("lockout_seen"); its owner gets one DM (deduplicated per lockout) when the bot
knows their chat identity from an earlier verified conversation. When more than
``lockout_alarm_threshold`` lockouts are seen within ``lockout_alarm_window_minutes``,
IT's triage channel (or the log, without one) gets one alarm per window.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from bot.errors import HelpdeskError
from bot.messages import Button, Outcome, Reply
from bot.storage.base import utcnow
from integrations.directory import audit
from integrations.directory.models import DirectoryAudit

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


_last_run: dict[int, float] = {}
KEEP_COUNTERS = dt.timedelta(days=2)
KEEP_LINKS = dt.timedelta(days=7)


def run_once(services: Services) -> int:
    """One round (at most every ``watch_interval_seconds``); returns how many new lockouts were seen."""
    cfg = services.settings.directory
    if not cfg.configured:
        return 0
    now = time.monotonic()
    if now - _last_run.get(id(services), -1e9) < cfg.watch_interval_seconds:
        return 0
    _last_run[id(services)] = now
    purge(services)
    if not cfg.watch_lockouts or services.directory is None:
        return 0
    directory = services.directory
    try:
        locked = directory.locked_accounts()
    except HelpdeskError as exc:
        log.warning("lockout watch: directory not reachable (%s)", exc.detail)
        return 0
    from bot import notify

    new = 0
    with services.db.session() as session:
        for account in locked:
            if directory.protection_reason(account) is not None:
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
                notify.enqueue(session, user_key=user_key, email=account.email, dedupe_key=lockout_key(account),
                               reply=Reply(text=f"Your account *{account.login}* has just been locked "
                                           "(too many wrong passwords). If that was you, I can unlock it now. "
                                           "If it wasn't you, tell IT.", outcome=Outcome.ACCOUNT_ACTION,
                                           private=True,
                                           buttons=[Button("Unlock my account", "account.check", {}, style="primary"),
                                                    Button("It wasn't me", "ticket.open",
                                                           {"summary": "My account was locked and it wasn't me"})]))
        # Already-unlocked accounts may lock again later: forget the marker once unlocked.
        locked_dns = {a.dn for a in locked}
        for row in session.scalars(select(DirectoryAudit).where(
                DirectoryAudit.action == "lockout_seen", DirectoryAudit.result == "locked")):
            if row.account not in locked_dns:
                row.result = "cleared"
        _alarm(services, session)
    return new


def purge(services: Services) -> None:
    """Forget old rate-limit counters and long-expired reset links (the audit log is kept)."""
    from sqlalchemy import delete

    from integrations.directory.models import RateCounter, ResetLink

    now = utcnow()
    with services.db.session() as session:
        session.execute(delete(RateCounter).where(RateCounter.window_start < now - KEEP_COUNTERS))
        session.execute(delete(ResetLink).where(ResetLink.expires_at < now - KEEP_LINKS))


def lockout_key(account, now: dt.datetime | None = None) -> str:  # noqa: ANN001
    """The notification dedupe key of one lockout, the same on every replica.

    Built from the account's DN and the directory's own lockout time, so two bot
    replicas that both notice the lockout queue one DM; without a lockout time the
    hour bucket stands in for it.
    """
    import hashlib

    when = account.locked_since or audit.window_start(now or utcnow(), dt.timedelta(hours=1)).isoformat()
    return f"lockout:{hashlib.sha256(account.dn.lower().encode()).hexdigest()[:32]}:{when}"[:200]


def _known_user_key(session, account) -> str | None:  # noqa: ANN001
    """The chat identity that last came to the bot with one of this account's verified e-mails."""
    emails = list(account.emails or ((account.email,) if account.email else ()))
    if not emails:
        return None
    return session.scalars(select(DirectoryAudit.actor).where(
        DirectoryAudit.email.in_(emails), DirectoryAudit.actor.notin_(["watcher", "web", "system"]))
        .order_by(DirectoryAudit.id.desc()).limit(1)).first()


def _alarm(services: Services, session) -> None:  # noqa: ANN001
    cfg = services.settings.directory
    window = dt.timedelta(minutes=cfg.lockout_alarm_window_minutes)
    since = utcnow() - window
    count = session.scalar(select(func.count()).select_from(DirectoryAudit).where(
        DirectoryAudit.action == "lockout_seen", DirectoryAudit.created_at >= since)) or 0
    if count < cfg.lockout_alarm_threshold:
        return
    bucket = audit.window_start(utcnow(), window)
    already = session.scalars(select(DirectoryAudit.id).where(
        DirectoryAudit.action == "lockout_alarm", DirectoryAudit.created_at >= bucket)).first()
    if already is not None:
        return
    audit.record(session, actor="watcher", action="lockout_alarm", result="raised",
                 detail=f"{count} lockouts in {cfg.lockout_alarm_window_minutes} min")
    log.error("LOCKOUT ALARM: %s accounts locked in the last %s minutes (possible password spraying)",
              count, cfg.lockout_alarm_window_minutes)
    triage = getattr(services.settings.slack, "triage_channel", None)
    if triage:
        from bot import notify

        key = triage if ":" in str(triage) else f"slack:{triage}"
        notify.enqueue(session, user_key=key, dedupe_key=f"lockout-alarm:{bucket.isoformat()}",
                       reply=Reply(text=f":rotating_light: {count} accounts were locked out in the last "
                                   f"{cfg.lockout_alarm_window_minutes} minutes — possible password spraying. "
                                   "See `helpdesk audit --action lockout_seen`.", outcome=Outcome.INFO))
