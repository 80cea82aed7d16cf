"""Undoing an edit of the Rasa files: exactly the example lines it changed go back, edits made since stay, and an
edit whose examples changed since is refused with the reason (file and line), leaving every file as it was."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.errors import DataError
from intents.editing import IntentsEditor
from intents.edits import Edit

IT = """\
    # IT questions (comments and layout survive edits and undos).
    version: "3.1"
    nlu:
    - intent: printer_issue
      examples: |
        - the printer is not working
        - I can't print
        - printer jammed
    # between the intents
    - intent: vpn_issue
      examples: |
        - the vpn does not connect
        - vpn keeps dropping
        - "[okta](system) asks for a code on the vpn"
    """
ENTITIES = 'version: "3.1"\nnlu:\n- lookup: system\n  examples: |\n    - okta\n'


@pytest.fixture
def editor(tmp_path: Path) -> IntentsEditor:
    folder = tmp_path / "intents"
    folder.mkdir()
    (folder / "it.yml").write_text(textwrap.dedent(IT), encoding="utf-8")
    (folder / "entities.yml").write_text(ENTITIES, encoding="utf-8")
    return IntentsEditor(folder, min_examples=1)


def text(editor: IntentsEditor) -> str:
    return (editor.folder / "it.yml").read_text(encoding="utf-8")


def where(editor: IntentsEditor, example: str) -> tuple[str, int]:
    (ex,) = [e for e in editor.view().data.examples if e.text == example]
    return ex.intent, ex.line or 0


def test_undo_of_an_add_deletes_its_lines_and_keeps_what_was_edited_since(editor: IntentsEditor) -> None:
    added = editor.add("printer_issue", ["the toner is empty", "printer jammed", "scanner [okta](system) fails"])
    assert added.examples == ["the toner is empty", "scanner okta fails"]  # "printer jammed" was there already
    editor.add("vpn_issue", ["vpn asks twice"])  # another edit since, below in the same file
    editor.remove("it.yml", where(editor, "I can't print")[1], "I can't print")  # and one above the added lines
    expected = text(editor).replace("    - the toner is empty\n", "").replace(
        "    - scanner [okta](system) fails\n", "")

    undone = editor.undo(Edit.from_dict(added.to_dict()))  # as the log entry keeps it (JSON)

    assert text(editor) == expected
    assert [x.example for x in undone.edit.removed] == ["the toner is empty", "scanner okta fails"]
    assert editor.view().problems == []


def test_undo_of_a_remove_puts_the_line_back_in_its_place_as_written(editor: IntentsEditor) -> None:
    original = text(editor)
    removed = editor.remove("it.yml", where(editor, "okta asks for a code on the vpn")[1],
                            "okta asks for a code on the vpn")
    editor.remove("it.yml", where(editor, "printer jammed")[1], "printer jammed")  # lines above it shift
    editor.add("vpn_issue", ["vpn is slow"])  # and its old neighbour below changed

    editor.undo(removed)

    after = text(editor)
    assert '    - "[okta](system) asks for a code on the vpn"\n    - vpn is slow\n' in after  # quotes, annotation kept
    assert after == original.replace("    - printer jammed\n", "").replace(
        'on the vpn"\n', 'on the vpn"\n    - vpn is slow\n')
    (ex,) = [e for e in editor.view().examples["vpn_issue"] if e.text.startswith("okta")]
    assert [(a.entity, a.value) for a in ex.entities] == [("system", "okta")]


def test_undo_of_a_move_restores_both_intents_byte_for_byte(editor: IntentsEditor) -> None:
    original = text(editor)
    moved = editor.move("it.yml", where(editor, "I can't print")[1], "I can't print", "vpn_issue")
    assert where(editor, "I can't print")[0] == "vpn_issue"

    restored = editor.undo(moved)

    assert text(editor) == original
    assert [x.where for x in restored.edit.added] == ["it.yml:7"]


def test_an_edit_whose_examples_changed_since_is_refused_saying_why(editor: IntentsEditor) -> None:
    added = editor.add("printer_issue", ["the toner is empty"])
    intent, line = where(editor, "the toner is empty")
    moved = editor.move("it.yml", line, "the toner is empty", "vpn_issue")
    before = text(editor)
    with pytest.raises(DataError, match=r"it\.yml:\d+: “the toner is empty” was moved to intent vpn_issue since"):
        editor.undo(added)
    assert text(editor) == before  # refused: nothing changed

    editor.remove("it.yml", where(editor, "the toner is empty")[1], "the toner is empty")
    with pytest.raises(DataError, match="“the toner is empty” is no longer in it.yml .removed or changed since."):
        editor.undo(moved)

    removed = editor.remove("it.yml", where(editor, "printer jammed")[1], "printer jammed")
    editor.add("vpn_issue", ["printer jammed"])  # the removed example was added again, elsewhere
    with pytest.raises(DataError, match=r"it\.yml:\d+: “printer jammed” is an example of intent vpn_issue again"):
        editor.undo(removed)

    hand = editor.add("vpn_issue", ["vpn drops at noon"])
    path = editor.folder / "it.yml"
    path.write_text(path.read_text().replace("- vpn drops at noon", "- 'vpn drops at noon'"))  # edited by hand
    before = text(editor)
    with pytest.raises(DataError, match=r"“vpn drops at noon” was changed since \(the line is now “- 'vpn drops"):
        editor.undo(hand)
    assert text(editor) == before


def test_a_second_undo_of_the_same_edit_is_refused(editor: IntentsEditor) -> None:
    original = text(editor)
    removed = editor.remove("it.yml", where(editor, "printer jammed")[1], "printer jammed")
    editor.undo(removed)
    assert text(editor) == original
    with pytest.raises(DataError, match="“printer jammed” is an example of intent printer_issue again"):
        editor.undo(removed)
    assert text(editor) == original


def test_a_move_undo_refused_half_way_leaves_every_file_as_it_was(editor: IntentsEditor) -> None:
    moved = editor.move("it.yml", where(editor, "printer jammed")[1], "printer jammed", "vpn_issue")
    other = editor.folder / "more.yml"  # the moved example's old text is written again in another file
    other.write_text('version: "3.1"\nnlu:\n- intent: printer_issue\n  examples: |\n    - printer jammed\n')
    before = {p.name: p.read_text() for p in editor.folder.glob("*.yml")}
    with pytest.raises(DataError, match=r"“printer jammed” is an example of intent"):
        editor.undo(moved)
    assert {p.name: p.read_text() for p in editor.folder.glob("*.yml")} == before


def test_a_partial_undo_leaves_the_examples_changed_since(editor: IntentsEditor) -> None:
    added = editor.add("vpn_issue", ["vpn needs a token", "vpn after the update"])
    editor.move("it.yml", where(editor, "vpn after the update")[1], "vpn after the update", "printer_issue")
    undone = editor.undo(Edit.added_examples("vpn_issue", added.examples), partial=True)  # as an old log entry
    assert [x.example for x in undone.left] == ["vpn after the update"]
    assert where(editor, "vpn after the update")[0] == "printer_issue"
    assert "vpn needs a token" not in text(editor)
