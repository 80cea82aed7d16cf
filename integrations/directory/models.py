"""Tables of the directory integration: audit log, one-time reset links, rate-limit counters.

No column ever holds a password: reset links are stored as SHA-256 hashes of the
token, and the audit log records who did what to which account, and the result.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, utcnow


class DirectoryAudit(Base):
    """One account action or refusal: who, which account, what, result, when."""

    __tablename__ = "directory_audit"
    __table_args__ = (Index("ix_directory_audit_action_created", "action", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)  # user_key, "web", "watcher"
    email: Mapped[str | None] = mapped_column(String(320))
    account: Mapped[str | None] = mapped_column(String(500))  # the account's DN when resolved
    action: Mapped[str] = mapped_column(String(40))  # lookup|unlock|reset_link|reset|temporary_password|...
    result: Mapped[str] = mapped_column(String(40))  # ok|refused|not_found|protected|disabled|...
    detail: Mapped[str | None] = mapped_column(Text)


class ResetLink(Base):
    """A one-time reset link, bound to one employee (user_key) and one account (DN)."""

    __tablename__ = "directory_reset_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_key: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str] = mapped_column(String(320))
    account_dn: Mapped[str] = mapped_column(String(500))
    csrf_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(80))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)


class RateCounter(Base):
    """How many times ``key`` happened in the window starting at ``window_start``."""

    __tablename__ = "directory_rate_counter"
    __table_args__ = (UniqueConstraint("key", "window_start", name="uq_directory_rate_counter_key_window"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300))
    window_start: Mapped[dt.datetime] = mapped_column(DateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
