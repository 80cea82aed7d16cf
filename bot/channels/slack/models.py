"""Slack adapter tables: the inbox of received events (dedupe + durable work) and replies kept for sharing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, utcnow


class SlackProcessedEvent(Base):
    """One received Slack delivery (event, command, button, modal), keyed so replicas agree on it.

    The primary key is the dedupe claim; the same row is the durable record of the
    work: ``state`` is ``pending`` from the moment it is recorded (before the ack)
    until it is answered (``done``), given up on (``failed``) or refused by the rate
    limit (``refused``). ``job`` holds what is needed to answer it after a crash
    (free text redacted) and is cleared once the row leaves ``pending``.
    ``claimed_by``/``claimed_at`` are the lease of the replica working on it.
    """

    __tablename__ = "slack_processed_event"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    state: Mapped[str] = mapped_column(String(16), default="done", server_default="done", index=True)
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    job: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SlackSharedReply(Base):
    """A reply shown ephemerally (``/helpdesk``), kept so its owner can share it in the channel."""

    __tablename__ = "slack_shared_reply"

    turn_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32))
    reply: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
