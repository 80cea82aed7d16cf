"""The directory library's notice port: what the lockout watch reports, as neutral events.

The watch (``integrations.directory.watch``) does not write chat messages. It
publishes these events through a :class:`DirectoryNoticeSink`, inside its own
database transaction, and the bot (``bot/notices``) decides what they look like
and where they go (the employee's DM, IT's triage channel).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class LockoutSeen:
    """An employee's account was just locked, and the bot knows their chat identity (``user_key``)."""

    user_key: str
    email: str | None
    login: str
    dedupe_key: str


@dataclass(frozen=True)
class LockoutStorm:
    """More accounts than the alarm threshold locked within the window (possible password spraying)."""

    count: int
    window_minutes: int
    dedupe_key: str


DirectoryNotice = LockoutSeen | LockoutStorm


class DirectoryNoticeSink(Protocol):
    """Receives the directory's notices; called inside the producer's transaction (``session``)."""

    def publish(self, session: Session, notice: DirectoryNotice) -> None:
        """Record what ``notice`` means (e.g. queue a chat notification) in ``session``."""
        ...


__all__ = ["DirectoryNotice", "DirectoryNoticeSink", "LockoutSeen", "LockoutStorm"]
