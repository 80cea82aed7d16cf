"""What one edit of the Rasa files did, precisely enough to undo it: the example lines it wrote and deleted.

An :class:`Edit` is kept with the edit's log entry (JSON, :meth:`Edit.to_dict`)
and handed back to ``IntentsEditor.undo``. Each :class:`Line` is the whole line
as it was in the file (indentation, quotes and entity annotations kept), its
intent, and for a deleted line the lines around it (where undo puts it back).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.errors import DataError

ADD, MOVE, REMOVE, UNDO = "add", "move", "remove", "undo"
KINDS = (ADD, MOVE, REMOVE, UNDO)


@dataclass(frozen=True)
class Line:
    """One example line an edit wrote or deleted."""

    file: str  # relative to the intents folder ("" when not recorded: found by its text)
    line: int  # 1-based, when the edit was made (0 when not recorded)
    intent: str
    example: str  # the plain text (entity annotations removed), as the pages show it
    text: str = ""  # the whole line without its newline ("" when not recorded)
    above: str | None = None  # for a deleted line: the line before it (None: it was the first)
    below: str | None = None  # and the line after it (None: it was the last)

    @property
    def where(self) -> str:
        """``file:line`` (or just the file) as messages name it."""
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Edit:
    """The lines one edit wrote (``added``) and deleted (``removed``); undo deletes the first, restores the second."""

    kind: str
    added: tuple[Line, ...] = field(default_factory=tuple)
    removed: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def examples(self) -> list[str]:
        """The plain texts written (what an add reports)."""
        return [line.example for line in self.added]

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-able data (for the log entry's details)."""
        return {"kind": self.kind, "added": [asdict(x) for x in self.added],
                "removed": [asdict(x) for x in self.removed]}

    @classmethod
    def from_dict(cls, raw: object) -> Edit:
        """The record back from :meth:`to_dict`; DataError when it is not one."""
        try:
            if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
                raise ValueError("not an edit")
            return cls(str(raw["kind"]), tuple(_line(x) for x in raw.get("added", [])),
                       tuple(_line(x) for x in raw.get("removed", [])))
        except (KeyError, TypeError, ValueError):
            raise DataError("The edit's record is incomplete, so it cannot be undone; "
                            "change the examples by hand.") from None

    @classmethod
    def added_examples(cls, intent: str, examples: list[str]) -> Edit:
        """An add recorded only by intent and texts (log entries from before edits were recorded line by line)."""
        return cls(ADD, tuple(Line("", 0, intent, text) for text in examples))


@dataclass(frozen=True)
class Undone:
    """What an undo did (``edit``: lines restored as ``added``, lines deleted as ``removed``), and what it left."""

    edit: Edit
    left: tuple[Line, ...] = ()  # lines the undone edit wrote that changed since (a partial undo leaves them)


def _line(raw: Any) -> Line:
    if not isinstance(raw, dict):
        raise TypeError("not a line")
    above, below = raw.get("above"), raw.get("below")
    return Line(str(raw["file"]), int(raw["line"]), str(raw["intent"]), str(raw["example"]), str(raw.get("text", "")),
                None if above is None else str(above), None if below is None else str(below))


def describe(edit: Edit) -> str:
    """One line for trainers: what the edit did."""
    def quoted(lines: tuple[Line, ...]) -> str:
        shown = ", ".join(f"“{x.example}”" for x in lines[:3])
        return shown + (f" and {len(lines) - 3} more" if len(lines) > 3 else "")

    if edit.kind == MOVE and edit.added and edit.removed:
        return f"moved {quoted(edit.removed)} from {edit.removed[0].intent} to {edit.added[0].intent}"
    if edit.kind == REMOVE and edit.removed:
        return f"removed {quoted(edit.removed)} from {edit.removed[0].intent} ({edit.removed[0].where})"
    if edit.added:
        return f"added {quoted(edit.added)} to {edit.added[0].intent}"
    return "no change"


__all__ = ["ADD", "KINDS", "MOVE", "REMOVE", "UNDO", "Edit", "Line", "Undone", "describe"]
