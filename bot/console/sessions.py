"""Console sign-in state in the database: sessions, one-time login links, pending OIDC sign-ins.

Every secret value (session cookie, login-link token, OIDC ``state``) is random, handed to the
browser once, and stored only as its SHA-256 hash. A login link is claimed with one conditional
UPDATE, so two concurrent uses cannot both succeed. The CSRF token of a session is derived from
the cookie value (HMAC), so it is never stored and cannot be computed from the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from bot.config.console import ConsoleSettings
from bot.console.models import ConsoleLoginLink, ConsoleOidcState, ConsoleSession
from bot.storage.base import utcnow

OIDC_STATE_MINUTES = 10
TOUCH_EVERY = dt.timedelta(seconds=30)  # last_seen_at is written at most this often per session
KEEP_EXPIRED = dt.timedelta(days=1)  # ended/expired rows are deleted this long after they stop working


def new_token() -> str:
    """A fresh random value for a cookie, link or state (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """The stored form of a token (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_for(cookie_value: str) -> str:
    """The session's CSRF token: an HMAC of its cookie value (never stored, not derivable from the DB)."""
    return hmac.new(cookie_value.encode("utf-8"), b"helpdesk-console-csrf", hashlib.sha256).hexdigest()


def csrf_matches(cookie_value: str, submitted: str | None) -> bool:
    """Constant-time comparison of a submitted CSRF token with the session's."""
    return bool(submitted) and hmac.compare_digest(csrf_for(cookie_value), str(submitted))


# --------------------------------------------------------------------------- sessions
def start(session: Session, cfg: ConsoleSettings, *, email: str, name: str, roles: set[str] | frozenset[str],
          via: str) -> str:
    """A new signed-in session; returns the cookie value (only its hash is stored)."""
    now = utcnow()
    forget_old(session, now)
    token = new_token()
    session.add(ConsoleSession(token_hash=digest(token), email=email.lower(), name=name[:200],
                               roles=" ".join(sorted(roles)), roles_checked_at=now, via=via[:60], created_at=now,
                               last_seen_at=now, expires_at=now + dt.timedelta(hours=cfg.session_max_hours)))
    session.flush()
    return token


def forget_old(session: Session, now: dt.datetime | None = None) -> None:
    """Delete sessions and login links that stopped working over a day ago (their audit entries stay)."""
    cutoff = (now or utcnow()) - KEEP_EXPIRED
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < cutoff))
    session.execute(delete(ConsoleLoginLink).where(ConsoleLoginLink.expires_at < cutoff))


def live(session: Session, cfg: ConsoleSettings, cookie_value: str | None,
         now: dt.datetime | None = None) -> ConsoleSession | None:
    """The session this cookie belongs to when it is still valid (not ended, idle or past its maximum age)."""
    if not cookie_value or len(cookie_value) > 200:
        return None
    row = session.scalars(select(ConsoleSession).where(ConsoleSession.token_hash == digest(cookie_value))).first()
    now = now or utcnow()
    if row is None or row.ended_at is not None or row.expires_at <= now \
            or row.last_seen_at + dt.timedelta(minutes=cfg.session_minutes) <= now:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def end(session: Session, cookie_value: str | None) -> ConsoleSession | None:
    """Sign out: the session stops working at once. Returns it (None when there was none)."""
    if not cookie_value:
        return None
    row = session.scalars(select(ConsoleSession).where(ConsoleSession.token_hash == digest(cookie_value))).first()
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
    return row


def push_flash(row: ConsoleSession, message: str, kind: str = "ok") -> None:
    """Queue a message to show once on the session's next page."""
    row.flash = [*(row.flash or []), {"text": message, "kind": kind}]


def pop_flash(row: ConsoleSession) -> list[dict[str, Any]]:
    """The queued messages (removed)."""
    messages = list(row.flash or [])
    if messages:
        row.flash = None
    return messages


# --------------------------------------------------------------------------- login links
def issue_link(session: Session, *, email: str, minutes: int, created_by: str = "cli") -> tuple[str, ConsoleLoginLink]:
    """A one-time sign-in link token for ``email`` (only its hash is stored)."""
    now = utcnow()
    token = new_token()
    row = ConsoleLoginLink(token_hash=digest(token), email=email.strip().lower(), created_by=created_by,
                           created_at=now, expires_at=now + dt.timedelta(minutes=minutes))
    session.add(row)
    session.flush()
    return token, row


def find_link(session: Session, token: str) -> ConsoleLoginLink | None:
    """The link a token belongs to (whatever its state), or None."""
    if not token or len(token) > 200:
        return None
    return session.scalars(select(ConsoleLoginLink).where(ConsoleLoginLink.token_hash == digest(token))).first()


def link_problem(link: ConsoleLoginLink | None, now: dt.datetime | None = None) -> str | None:
    """None when the link may be used now, else "unknown", "used" or "expired"."""
    if link is None:
        return "unknown"
    if link.used_at is not None:
        return "used"
    if link.expires_at <= (now or utcnow()):
        return "expired"
    return None


def claim_link(session: Session, token: str) -> ConsoleLoginLink | None:
    """Use a link once: atomically mark it used; None when unknown, used or expired (or lost a race)."""
    now = utcnow()
    result = cast(CursorResult[Any], session.execute(
        update(ConsoleLoginLink)
        .where(ConsoleLoginLink.token_hash == digest(token), ConsoleLoginLink.used_at.is_(None),
               ConsoleLoginLink.expires_at > now)
        .values(used_at=now)))
    if result.rowcount != 1:
        return None
    return find_link(session, token)


# --------------------------------------------------------------------------- pending OIDC sign-ins
def remember_oidc(session: Session, *, state: str, browser: str, provider: str, nonce: str, code_verifier: str,
                  next_url: str) -> None:
    """Keep what the callback needs (bound to the browser's pre-login cookie); old ones are purged."""
    now = utcnow()
    session.execute(delete(ConsoleOidcState).where(ConsoleOidcState.expires_at <= now))
    session.add(ConsoleOidcState(state_hash=digest(state), browser_hash=digest(browser), provider=provider,
                                 nonce=nonce, code_verifier=code_verifier, next_url=next_url, created_at=now,
                                 expires_at=now + dt.timedelta(minutes=OIDC_STATE_MINUTES)))
    session.flush()


def take_oidc(session: Session, *, state: str | None, browser: str | None, provider: str) -> ConsoleOidcState | None:
    """The pending sign-in for this state from this browser; it is removed whoever presents it (single use)."""
    if not state or len(state) > 200:
        return None
    row = session.scalars(select(ConsoleOidcState).where(ConsoleOidcState.state_hash == digest(state))).first()
    if row is None:
        return None
    session.delete(row)
    session.flush()
    ok = (row.provider == provider and row.expires_at > utcnow() and browser is not None
          and hmac.compare_digest(row.browser_hash, digest(browser)))
    return row if ok else None
