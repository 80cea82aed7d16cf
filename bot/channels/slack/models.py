"""Slack adapter tables: processed event ids (dedupe) and replies kept for "Share in channel"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, utcnow


class SlackProcessedEvent(Base):
    """An Events API ``event_id`` already handled; the primary key makes replicas agree."""

    __tablename__ = "slack_processed_event"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class SlackSharedReply(Base):
    """A reply shown ephemerally (``/helpdesk``), kept so its owner can share it in the channel."""

    __tablename__ = "slack_shared_reply"

    turn_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    reply: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
