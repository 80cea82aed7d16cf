"""The intents pages' edit log (no server): an edit is logged with what undo needs, undone once, the undo logged;
a refused undo changes neither the files nor the log. On SQLite, and PostgreSQL when configured."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.errors import DataError

TRAINER, OTHER = "trainer@example.com", "admin@example.com"
GREET = """\
    version: "3.1"
    nlu:
    - intent: greet
      examples: |
        - hello
        - hi there
    - intent: bye
      examples: |
        - goodbye
        - see you
    """


def test_an_edit_is_undone_once_and_the_undo_is_logged(migrated_db, tmp_path: Path) -> None:
    from bot.console.models import ConsoleAction
    from bot.console.pages import intents_edits as log
    from intents.editing import IntentsEditor

    (tmp_path / "greet.yml").write_text(textwrap.dedent(GREET), encoding="utf-8")
    editor = IntentsEditor(tmp_path, min_examples=1)
    original = (tmp_path / "greet.yml").read_text()
    moved = editor.move("greet.yml", 6, "hi there", "bye")
    with migrated_db.session() as s:
        entry = log.record_edit(s, actor=TRAINER, intent="greet", edit=moved, details={"example": "hi there"})
        entry_id = entry.id
    with migrated_db.session() as s:
        (row,) = log.edit_rows(s, "bye")  # a move shows on both intents' pages
        assert row["what"] == "moved “hi there” from greet to bye" and row["by"] == TRAINER and row["undoable"]
        assert log.edit_rows(s, "greet")[0]["id"] == entry_id

    with migrated_db.session() as s:
        log.undo_edit(s, editor, entry_id, by=OTHER)
    assert (tmp_path / "greet.yml").read_text() == original

    already = r"That edit was already undone by admin@example\.com, 20\d\d-[\d-]+ [\d:]+ UTC"
    with pytest.raises(DataError, match=already):
        with migrated_db.session() as s:
            log.undo_edit(s, editor, entry_id, by=TRAINER)
    assert (tmp_path / "greet.yml").read_text() == original
    with migrated_db.session() as s:
        (row,) = log.edit_rows(s)
        assert row["undone"].startswith(f"undone by {OTHER}, 20")
        undos = s.query(ConsoleAction).filter(ConsoleAction.action == "intents.undo").all()
        assert [(u.actor, u.target, u.details["edit_id"]) for u in undos] == [(OTHER, "intent/greet", entry_id)]


def test_a_refused_undo_leaves_the_edit_undoable_and_unlogged(migrated_db, tmp_path: Path) -> None:
    from bot.console.models import ConsoleAction
    from bot.console.pages import intents_edits as log
    from intents.editing import IntentsEditor

    (tmp_path / "greet.yml").write_text(textwrap.dedent(GREET), encoding="utf-8")
    editor = IntentsEditor(tmp_path, min_examples=1)
    added = editor.add("greet", ["good morning"])
    with migrated_db.session() as s:
        entry_id = log.record_edit(s, actor=TRAINER, intent="greet", edit=added, details={}).id
    editor.move("greet.yml", 7, "good morning", "bye")  # changed since (not through the log)
    with pytest.raises(DataError, match=r"greet\.yml:\d+: “good morning” was moved to intent bye since"):
        with migrated_db.session() as s:
            log.undo_edit(s, editor, entry_id, by=TRAINER)
    with migrated_db.session() as s:
        assert s.get(ConsoleAction, entry_id).undone_at is None  # the mark was rolled back with the refusal
        assert s.query(ConsoleAction).filter(ConsoleAction.action == "intents.undo").count() == 0
    with pytest.raises(DataError, match="There is no intents edit 999 to undo."):
        with migrated_db.session() as s:
            log.undo_edit(s, editor, 999, by=TRAINER)
