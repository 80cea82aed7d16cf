"""One-time reset links: random tokens handed to the employee, only their hashes stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from bot.storage.base import utcnow
from integrations.directory.models import ResetLink


def digest(token: str) -> str:
    """The stored form of a token or CSRF value (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(session: Session, *, user_key: str, email: str, account_dn: str, minutes: int) -> tuple[str, ResetLink]:
    """Create a link for (employee, account); earlier unused links of that employee are cancelled."""
    now = utcnow()
    for old in session.scalars(select(ResetLink).where(ResetLink.user_key == user_key,
                                                       ResetLink.used_at.is_(None),
                                                       ResetLink.revoked_reason.is_(None))):
        old.revoked_reason = "superseded"
    token = secrets.token_urlsafe(32)
    row = ResetLink(token_hash=digest(token), user_key=user_key, email=email, account_dn=account_dn,
                    created_at=now, expires_at=now + dt.timedelta(minutes=minutes), failed_attempts=0)
    session.add(row)
    session.flush()
    return token, row


def find(session: Session, token: str) -> ResetLink | None:
    """The link a token from a URL belongs to (whatever its state), or None."""
    if not token or len(token) > 200:
        return None
    return session.scalars(select(ResetLink).where(ResetLink.token_hash == digest(token))).first()


def why_unusable(link: ResetLink | None, now: dt.datetime | None = None) -> str | None:
    """None when the link may be used now, else a short reason code."""
    if link is None:
        return "unknown"
    if link.used_at is not None:
        return "used"
    if link.revoked_reason:
        return "revoked"
    if (now or utcnow()) >= link.expires_at:
        return "expired"
    return None


def new_csrf(link: ResetLink) -> str:
    """A fresh CSRF value for the link's form (only its hash is kept, replacing the previous one)."""
    value = secrets.token_urlsafe(24)
    link.csrf_hash = digest(value)
    return value


def csrf_ok(link: ResetLink, form_value: str | None, cookie_value: str | None) -> bool:
    """Whether the form's and the cookie's CSRF values match each other and the link's current one."""
    if not form_value or not cookie_value or link.csrf_hash is None:
        return False
    return hmac.compare_digest(form_value, cookie_value) and hmac.compare_digest(digest(form_value), link.csrf_hash)


BUSY = "busy:"  # csrf_hash while a claimed submission is with the directory (then replaced or cleared)
BUSY_SECONDS = 120  # a claim older than this (the process died mid-submit) no longer blocks a new form


def busy(link: ResetLink, now: dt.datetime | None = None) -> bool:
    """Whether a claimed submission of this link is being applied right now."""
    value = link.csrf_hash or ""
    if not value.startswith(BUSY):
        return False
    try:
        since = dt.datetime.fromisoformat(value[len(BUSY):])
    except ValueError:
        return False
    return ((now or utcnow()) - since).total_seconds() < BUSY_SECONDS


def claim(session: Session, link: ResetLink) -> bool:
    """Atomically take this form submission before touching the directory.

    One conditional UPDATE spends the link's current CSRF value (only while the link is
    unused and not revoked) and marks the link busy: of two concurrent submits exactly
    one wins; the loser (rowcount 0) must not call the directory. The caller commits the
    claim at once and calls the directory outside any transaction; while busy, the page
    issues no new form for the link.
    """
    if link.csrf_hash is None or link.csrf_hash.startswith(BUSY):
        return False
    marker = BUSY + utcnow().isoformat(timespec="seconds")
    won = cast(CursorResult[Any], session.execute(
        update(ResetLink)
        .where(ResetLink.id == link.id, ResetLink.used_at.is_(None), ResetLink.revoked_reason.is_(None),
               ResetLink.csrf_hash == link.csrf_hash)
        .values(csrf_hash=marker)
        .execution_options(synchronize_session=False))).rowcount
    if won == 1:
        link.csrf_hash = marker  # keep the ORM copy in step (replaced when the form is shown again)
        session.flush()
    return won == 1
