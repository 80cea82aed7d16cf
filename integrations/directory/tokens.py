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


def claim(session: Session, link: ResetLink) -> bool:
    """Atomically take this form submission before touching the directory.

    One conditional UPDATE spends the link's current CSRF value (only while the link is
    unused and not revoked): of two concurrent submits exactly one wins; the loser
    (rowcount 0) must not call the directory. On PostgreSQL the winner holds the row
    lock until its transaction ends, so the loser re-checks the committed row.
    """
    if link.csrf_hash is None:
        return False
    won = cast(CursorResult[Any], session.execute(
        update(ResetLink)
        .where(ResetLink.id == link.id, ResetLink.used_at.is_(None), ResetLink.revoked_reason.is_(None),
               ResetLink.csrf_hash == link.csrf_hash)
        .values(csrf_hash=None)
        .execution_options(synchronize_session=False))).rowcount
    if won == 1:
        link.csrf_hash = None  # keep the ORM copy in step (set again only for a re-shown form)
        session.flush()
    return won == 1
