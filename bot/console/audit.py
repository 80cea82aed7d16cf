"""The console's action log (table ``console_action``): who did what to which target, when; undo marks.

Every console action that changes something records one row; `helpdesk` CLI actions may record too
(actor "cli" or the operator's e-mail). Details must never hold a secret.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.models import ConsoleAction
from bot.storage.base import utcnow


def record(session: Session, *, actor: str, action: str, target: str, details: dict[str, Any] | None = None
           ) -> ConsoleAction:
    """Add one entry (flushed, so its ``id`` is set) in the caller's transaction."""
    row = ConsoleAction(created_at=utcnow(), actor=actor[:320], action=action[:80], target=target[:500],
                        details=details)
    session.add(row)
    session.flush()
    return row


def mark_undone(session: Session, action_id: int, *, by: str) -> ConsoleAction | None:
    """Mark an entry as undone (by whom, when); None when it does not exist or was already undone."""
    row = session.get(ConsoleAction, action_id)
    if row is None or row.undone_at is not None:
        return None
    row.undone_at = utcnow()
    row.undone_by = by[:320]
    return row


def recent(session: Session, *, limit: int = 100, actor: str | None = None, action_prefix: str | None = None,
           target: str | None = None) -> list[ConsoleAction]:
    """The newest entries, optionally for one actor, action family (e.g. "gap.") or target."""
    query = select(ConsoleAction).order_by(ConsoleAction.id.desc()).limit(limit)
    if actor:
        query = query.where(ConsoleAction.actor == actor)
    if action_prefix:
        query = query.where(ConsoleAction.action.startswith(action_prefix))
    if target:
        query = query.where(ConsoleAction.target == target)
    return list(session.scalars(query))
