"""Tables of the console: the action log, sign-in sessions, one-time login links, pending OIDC sign-ins.

No column holds a usable credential: sessions and login links are stored as SHA-256 hashes of the
random value the browser (or the link) carries; a pending OIDC sign-in keeps its PKCE verifier and
nonce for at most a few minutes, bound to a hash of the browser's pre-login cookie.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, utcnow


class ConsoleAction(Base):
    """One thing done in the console (or by a console CLI command): who, what, to what, when."""

    __tablename__ = "console_action"
    __table_args__ = (Index("ix_console_action_action_created", "action", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320), index=True)  # an e-mail, or "cli"
    action: Mapped[str] = mapped_column(String(80))  # e.g. "signin", "article.publish", "gap.dismiss"
    target: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    undone_by: Mapped[str | None] = mapped_column(String(320))


class ConsoleSession(Base):
    """A signed-in browser: found by the hash of its cookie; idle and absolute expiry; roles re-checked."""

    __tablename__ = "console_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    roles: Mapped[str] = mapped_column(String(200), default="")  # space-separated, as last worked out
    roles_checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # last worked out (None: at sign-in)
    roles_failed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # directory unreachable since (None: fine)
    via: Mapped[str] = mapped_column(String(60))  # "link" or "oidc:<provider>"
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)  # absolute
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    flash: Mapped[list[Any] | None] = mapped_column(JSON)  # messages shown once on the next page


class ConsoleLoginLink(Base):
    """A one-time sign-in link from `helpdesk console login-link` (only the token's hash is kept)."""

    __tablename__ = "console_login_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    created_by: Mapped[str] = mapped_column(String(320), default="cli")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ConsoleOidcState(Base):
    """An OIDC sign-in between the redirect to the provider and its callback (minutes)."""

    __tablename__ = "console_oidc_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(40))
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(200))
    next_url: Mapped[str] = mapped_column(Text, default="/console/")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
