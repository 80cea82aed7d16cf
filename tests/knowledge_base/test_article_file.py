"""The editor's form ↔ file text: unchanged fields keep their bytes, a change touches only its lines."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from knowledge_base.article_file import ArticleForm, compose, form_from_text, with_status
from knowledge_base.parser import parse_article

KB = Path(__file__).resolve().parents[2] / "data" / "kb"
BUNDLED = sorted(KB.rglob("*.md"))


def changed_lines(old: str, new: str) -> list[str]:
    return [d for d in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
            if d[:1] in "+-" and not d.startswith(("+++", "---"))]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.relative_to(KB).as_posix())
def test_an_unchanged_form_composes_the_file_byte_for_byte(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(KB).as_posix()
    assert compose(form_from_text(text, rel), text, rel) == text


def test_a_changed_field_rewrites_only_its_own_lines() -> None:
    rel = "collaboration/meetings.md"
    text = (KB / rel).read_text(encoding="utf-8")
    drafted = with_status(text, "draft", rel)
    assert changed_lines(text, drafted) == ["-status: published", "+status: draft"]
    assert parse_article(drafted, rel).status == "draft"
    form = form_from_text(text, rel)
    form.tags = [*form.tags, "projector"]
    form.questions = ["how do I share my screen in a meeting room?"]
    edited = compose(form, text, rel)
    assert changed_lines(text, edited) == [
        "-tags: [teams, zoom, meetings, video, meeting room]",
        "+tags: [teams, zoom, meetings, video, meeting room, projector]",
        "+questions:", "+- how do I share my screen in a meeting room?"]
    assert parse_article(edited, rel).aliases[-1] == "how do I share my screen in a meeting room?"


def test_toml_front_matter_is_written_anew_as_yaml_when_a_field_changes() -> None:
    text = '+++\ntitle = "Printers"\nowner = "it@example.com"\n+++\n\n## Print\n\nUse FollowMe.\n'
    form = form_from_text(text, "printers.md")
    assert compose(form, text, "printers.md") == text
    form.owner = "workplace@example.com"
    assert compose(form, text, "printers.md") == ("---\ntitle: Printers\nowner: workplace@example.com\n---\n"
                                                  "\n## Print\n\nUse FollowMe.\n")


def test_a_new_article_from_a_browser_form_parses_back_to_the_same_fields() -> None:
    form = ArticleForm(title="Badge access: doors", owner="facilities@example.com", review_by="2027-01-31",
                       audience=["it-staff"], tags=["badge", "doors"], questions=["my badge does not open the door"],
                       body="\r\n## Doors\r\n\r\nHold the badge to the reader for two seconds.\r\n")
    text = compose(form)
    assert "\r" not in text
    parsed = parse_article(text, "facilities/badges.md")
    assert (parsed.title, parsed.owner, parsed.review_by, parsed.audience, parsed.tags) == (
        "Badge access: doors", "facilities@example.com", "2027-01-31", ["it-staff"], ["badge", "doors"])
    assert form_from_text(text, "facilities/badges.md").front() == form.front()
