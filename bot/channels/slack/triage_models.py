"""Where each ticket lives in Slack: its triage card, its relay thread in the employee's DM, relayed messages.

``SlackTicketThread`` is one row per ticket: the card in the triage channel
(``card_channel``/``card_ts``, and the newest ticket event it shows) and the
thread in the requester's DM where IT's replies arrive (``dm_channel``/``dm_ts``).
``SlackRelayedMessage`` remembers every Slack message relayed to a ticket, so a
redelivered or re-run message is relayed once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, utcnow


class SlackTicketThread(Base):
    """A ticket's triage card and its DM relay thread (either may be missing)."""

    __tablename__ = "slack_ticket_thread"
    __table_args__ = (Index("ix_slack_ticket_thread_card", "card_channel", "card_ts"),
                      Index("ix_slack_ticket_thread_dm", "dm_channel", "dm_ts"))

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True)
    card_channel: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    shown_event_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # newest event on the card
    dm_channel: Mapped[str | None] = mapped_column(String(32))
    dm_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class SlackRelayedMessage(Base):
    """A Slack message (card thread, DM thread or Reply modal) already relayed to a ticket."""

    __tablename__ = "slack_relayed_message"

    source: Mapped[str] = mapped_column(String(128), primary_key=True)  # "<channel>:<ts>" or "view:<id>"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(16))  # to_employee | to_it
    actor: Mapped[str] = mapped_column(String(64))  # the Slack user who wrote it
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
