"""Ticketing tables: tickets (local queue, and the bot's record of Jira tickets), comments,
events, the delivery outbox and the Jira webhook deliveries already seen.

Every ticket the bot opens has a row here, whatever the backend: it carries the
requester's ``user_key`` (how to reach them), e-mail and the idempotency key.
For the local queue the row *is* the ticket; for Jira it mirrors the issue key.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, utcnow


class Ticket(Base):
    """One escalation: the request as sent to IT, and who asked."""

    __tablename__ = "ticket"
    __table_args__ = (Index("ix_ticket_requester_status", "requester_user_key", "status_category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str | None] = mapped_column(String(64), unique=True)  # IT-12; None until Jira has it
    idem_key: Mapped[str] = mapped_column(String(64), unique=True)  # helpdesk-<uuid hex>
    backend: Mapped[str] = mapped_column(String(16))  # "local" | "jira"
    remote_id: Mapped[str | None] = mapped_column(String(64), index=True)  # Jira issue id
    url: Mapped[str | None] = mapped_column(String(500))
    requester_user_key: Mapped[str] = mapped_column(String(200), index=True)
    requester_email: Mapped[str | None] = mapped_column(String(320), index=True)
    requester_name: Mapped[str | None] = mapped_column(String(200))
    participants: Mapped[list[Any]] = mapped_column(JSON, default=list)  # extra user_keys / e-mails
    summary: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    employee_text: Mapped[str] = mapped_column(Text, default="")  # the employee's own words
    category: Mapped[str | None] = mapped_column(String(100))
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    priority: Mapped[str | None] = mapped_column(String(32))
    project: Mapped[str | None] = mapped_column(String(64))
    issue_type: Mapped[str | None] = mapped_column(String(64))
    components: Mapped[list[Any]] = mapped_column(JSON, default=list)
    labels: Mapped[list[Any]] = mapped_column(JSON, default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(64), default="Open")
    status_category: Mapped[str] = mapped_column(String(16), default="open")  # open|done|queued
    assignee: Mapped[str | None] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(String(200))
    rating: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Jira's ``fields.updated`` of the newest webhook applied: older deliveries are not applied
    remote_updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class TicketComment(Base):
    """A comment on a ticket (local queue comments, and Jira comments relayed by webhook)."""

    __tablename__ = "ticket_comment"
    # the same Jira comment delivered twice at once is stored once (NULLs: local comments)
    __table_args__ = (UniqueConstraint("ticket_id", "external_id", name="uq_ticket_comment_ticket_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    from_requester: Mapped[bool] = mapped_column(default=False)
    # an IT-only note: never relayed to the employee, never shown to them
    internal: Mapped[bool] = mapped_column(default=False, server_default=false())
    external_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TicketEvent(Base):
    """Audit trail of a ticket: created, queued, delivered, commented, assigned, resolved, rated."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TicketOutbox(Base):
    """Work for the remote tracker, written in the turn's transaction: create a ticket, or add
    the employee's comment to one (``kind``; a comment's text and ref are in ``payload``)."""

    __tablename__ = "ticket_outbox"
    __table_args__ = (Index("ix_ticket_outbox_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="create")  # create | comment
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class JiraWebhookDelivery(Base):
    """A Jira webhook delivery already applied: the same delivery twice has one effect."""

    __tablename__ = "jira_webhook_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_key: Mapped[str] = mapped_column(String(200), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    issue_key: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class TicketFollowUp(Base):
    """A follow-up already done for a ticket: one reminder per waiting period, one answer per resolution.

    The unique key is the claim: two workers (or replicas) that find the same reminder due, or two
    clicks on the same "Did this fix it?" message, insert one row between them; the other does nothing.
    ``kind`` is ``reminder`` (``occurrence``: the waiting period), ``fixed`` or ``reopened``
    (``occurrence``: the resolution the employee answered).
    """

    __tablename__ = "ticket_followup"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "occurrence", name="uq_ticket_followup_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    occurrence: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
