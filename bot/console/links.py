"""One-time sign-in links (`helpdesk console login-link`): issue one for an e-mail, audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.console import audit, sessions
from bot.errors import InvalidInputError
from bot.services import Services


@dataclass(frozen=True)
class LoginLink:
    """A freshly issued link: the URL (shown once, never stored) and when it stops working (UTC)."""

    url: str
    email: str
    expires_at: dt.datetime


def issue_login_link(services: Services, email: str, *, minutes: int | None = None,
                     created_by: str = "cli") -> LoginLink:
    """A single-use sign-in link for ``email`` valid ``minutes`` (default ``console.login_link_minutes``)."""
    address = email.strip().lower()
    if "@" not in address or len(address) > 320 or any(c.isspace() for c in address):
        raise InvalidInputError(f"--email: '{email}' is not an e-mail address.")
    cfg = services.settings.console
    minutes = minutes or cfg.login_link_minutes
    if not 1 <= minutes <= 24 * 60:
        raise InvalidInputError("--minutes must be between 1 and 1440.")
    with services.db.session() as db:
        token, row = sessions.issue_link(db, email=address, minutes=minutes, created_by=created_by)
        audit.record(db, actor=created_by, action="login_link.issue", target=address,
                     details={"link": row.id, "minutes": minutes})
        expires = row.expires_at
    base = services.settings.server.public_url.rstrip("/")
    return LoginLink(url=f"{base}/console/login/link/{token}", email=address, expires_at=expires)
