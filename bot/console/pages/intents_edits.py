"""The intents pages' edit log: each edit of the Rasa files logged with what it wrote and deleted, and its undo.

An edit (``intents.add`` / ``intents.move`` / ``intents.remove``) is a
``console_action`` entry whose details hold the :class:`intents.edits.Edit`;
undoing it reverts those lines through ``IntentsEditor.undo`` (refused, with
the reason, when they changed since), marks the entry undone (who, when) and
logs ``intents.undo``. An entry is undone at most once. The gaps inbox's
"add as intent examples" writes through the same editor and is listed here
too, but is undone from the gaps page (that also returns its topic).
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console import audit
from bot.console.models import ConsoleAction
from bot.errors import DataError
from bot.storage.base import minute_stamp
from intents.editing import IntentsEditor
from intents.edits import Edit, Undone, describe

EDIT_ACTIONS = ("intents.add", "intents.move", "intents.remove")
GAP_EXAMPLES = "gap.examples"  # the gaps inbox's "add as intent examples" (undone on the gaps page)
SHOWN = 15  # edits listed on a page
SCANNED = 300  # log entries looked through for them
_UNDO_LOCK = threading.Lock()  # one undo at a time in this process: the second sees the first's mark


def record_edit(session: Session, *, actor: str, intent: str, edit: Edit, details: dict[str, Any]) -> ConsoleAction:
    """Log an edit made on intent ``intent``'s page, with what undo needs."""
    return audit.record(session, actor=actor, action=f"intents.{edit.kind}", target=f"intent/{intent}",
                        details={**details, "edit": edit.to_dict()})


def undo_edit(session: Session, editor: IntentsEditor, entry_id: int, *, by: str) -> tuple[ConsoleAction, Undone]:
    """Undo logged edit ``entry_id`` in the files and mark it undone; DataError (nothing changed) when it cannot be.

    Call inside the session's transaction: a refusal rolls the mark back.
    """
    with _UNDO_LOCK:
        entry = session.get(ConsoleAction, entry_id, with_for_update=True)
        if entry is None or entry.action not in EDIT_ACTIONS:
            raise DataError(f"There is no intents edit {entry_id} to undo.")
        if entry.undone_at is not None:
            raise DataError(f"That edit was already undone by {entry.undone_by}, {minute_stamp(entry.undone_at)} UTC.")
        details = entry.details or {}
        if "edit" not in details:
            raise DataError("That edit was made before edits could be undone; change the examples by hand.")
        edit = Edit.from_dict(details["edit"])
        audit.mark_undone(session, entry.id, by=by)
        session.flush()  # the mark is written (and locked) before the files change
        undone = editor.undo(edit)
        audit.record(session, actor=by, action="intents.undo", target=entry.target,
                     details={"edit_id": entry.id, "action": entry.action, "undo": undone.edit.to_dict()})
        return entry, undone


def edit_rows(session: Session, intent: str | None = None) -> list[dict[str, Any]]:
    """The latest edits (undone ones included), newest first; only those touching ``intent`` when given."""
    query = (select(ConsoleAction).where(ConsoleAction.action.in_((*EDIT_ACTIONS, GAP_EXAMPLES)))
             .order_by(ConsoleAction.id.desc()).limit(SCANNED))
    rows = []
    for entry in session.scalars(query):
        details = entry.details or {}
        edit = _edit(details)
        touched = {x.intent for x in (edit.added + edit.removed)} if edit else set()
        touched |= {entry.target.removeprefix("intent/"), str(details.get("intent", ""))}
        if intent is not None and intent not in touched:
            continue
        rows.append({
            "id": entry.id, "by": entry.actor, "at": minute_stamp(entry.created_at), "what": describe_entry(entry),
            "from_gaps": entry.action == GAP_EXAMPLES, "undoable": edit is not None,
            "undone": f"undone by {entry.undone_by}, {minute_stamp(entry.undone_at)}" if entry.undone_at else None,
        })
        if len(rows) == SHOWN:
            break
    return rows


def describe_entry(entry: ConsoleAction) -> str:
    """One line for trainers: what a logged edit did."""
    details = entry.details or {}
    edit = _edit(details)
    if edit is not None and (edit.added or edit.removed):
        return describe(edit)
    if entry.action == "intents.move":  # logged before edits were recorded line by line
        return f"moved “{details.get('example', '')}” to {details.get('to', '')}"
    if entry.action == "intents.remove":
        return f"removed “{details.get('example', '')}”"
    examples = ", ".join(f"“{t}”" for t in details.get("examples", [])[:3])
    return f"added {examples or 'nothing'}" + (f" to {details['intent']}" if details.get("intent") else "")


def _edit(details: dict[str, Any]) -> Edit | None:
    try:
        return Edit.from_dict(details["edit"]) if "edit" in details else None
    except DataError:
        return None


__all__ = ["EDIT_ACTIONS", "GAP_EXAMPLES", "describe_entry", "edit_rows", "record_edit", "undo_edit"]
