"""Tables of the OAuth install mode: installations (tokens encrypted), one-time states, who is where.

Token columns hold Fernet ciphertext only (:mod:`.installations`); the plain tokens are never
stored, logged or shown.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, utcnow


class SlackInstallation(Base):
    """One installation of the app: a workspace, or an Enterprise Grid organisation (org-wide).

    ``install_key`` names where it applies (``E…:*`` org-wide, ``E…:T…`` or ``-:T…`` one workspace);
    the newest row of a key is the one used; each installing user keeps their row (their user token).
    """

    __tablename__ = "slack_installation"
    __table_args__ = (Index("ix_slack_installation_key_user", "install_key", "installer_user_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    install_key: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    app_id: Mapped[str | None] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    enterprise_url: Mapped[str | None] = mapped_column(String(500))
    team_id: Mapped[str | None] = mapped_column(String(32))
    team_name: Mapped[str | None] = mapped_column(String(200))
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    token_type: Mapped[str | None] = mapped_column(String(16))
    bot_id: Mapped[str | None] = mapped_column(String(32))
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    bot_scopes: Mapped[str | None] = mapped_column(Text)
    bot_token_enc: Mapped[str | None] = mapped_column(Text)
    bot_refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    bot_token_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    installer_user_id: Mapped[str] = mapped_column(String(32))
    user_scopes: Mapped[str | None] = mapped_column(Text)
    user_token_enc: Mapped[str | None] = mapped_column(Text)
    user_refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    user_token_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    installed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class SlackOAuthState(Base):
    """An OAuth ``state`` handed out by ``/slack/install``: consumed once, only before it expires."""

    __tablename__ = "slack_oauth_state"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class SlackInstallationUser(Base):
    """Which installation a Slack user was last seen through (for messages sent outside a request)."""

    __tablename__ = "slack_installation_user"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    team_id: Mapped[str | None] = mapped_column(String(32))
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
