"""Tables of the employee surfaces: assistant-panel threads and ticket offers made by emoji reaction.

``SlackAssistantThread`` is one row per thread of the Slack assistant panel
(Agents & AI Apps): who opened it, the context Slack last sent for it (the
channel the employee was looking at) and whether it has its title yet. The
context lives here, not in message metadata, so every replica reads the same.

``SlackTicketOffer`` is one row per message someone reacted to with the ticket
emoji: the unique ``(channel_id, message_ts)`` makes a second reaction (or a
replay) offer nothing new, and ``state`` moves ``offered`` → ``opening`` →
``opened`` (or ``declined``) with guarded updates, so one message gives one ticket.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, utcnow


class SlackAssistantThread(Base):
    """An assistant-panel thread (``assistant_thread_started``) and its latest context."""

    __tablename__ = "slack_assistant_thread"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    thread_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    titled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class SlackTicketOffer(Base):
    """"Open a ticket about this message?", offered privately to the message's author after a ticket emoji."""

    __tablename__ = "slack_ticket_offer"
    __table_args__ = (UniqueConstraint("channel_id", "message_ts", name="uq_slack_ticket_offer_message"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    author: Mapped[str] = mapped_column(String(32))
    reactor: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")  # the message, secrets masked
    permalink: Mapped[str | None] = mapped_column(String(500), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="offered")
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)  # the click that took it
    ticket_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
