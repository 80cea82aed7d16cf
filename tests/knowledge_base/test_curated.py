"""Curated answers: a paraphrase of a curated question gets the trainer's answer, marked curated; undo stops it."""

from __future__ import annotations

import json

import pytest

from bot.errors import DataError
from knowledge_base.curated import add_curated, list_curated, undo_curated
from tests.knowledge_base.test_cli import cli  # noqa: F401 - the CLI fixture

pytestmark = pytest.mark.slow  # loads the sentence encoder

QUESTION = "where do I send a document to be printed"
PARAPHRASE = "where should I send a document to get it printed"


def test_a_paraphrase_gets_the_curated_article_until_undone(kb, migrated_db):
    kb.search("warm up", groups={"*"})  # first use imports the articles
    with migrated_db.session() as s:
        (entry,) = add_curated(s, questions=[QUESTION], created_by="trainer@example.com", article_id="network/vpn")
    res = kb.search(PARAPHRASE, groups={"*"})
    assert res.curated is not None and res.curated.id == entry and res.curated.created_by == "trainer@example.com"
    assert res.top.info.id == "network/vpn" and res.answerable
    assert kb.search("printer toner is empty", groups={"*"}).curated is None  # not a paraphrase
    with migrated_db.session() as s:
        undo_curated(s, entry, undone_by="lead@example.com")
    res = kb.search(PARAPHRASE, groups={"*"})
    assert res.curated is None and res.top.info.id == "help/printing"
    with migrated_db.session() as s:
        (row,) = list_curated(s, include_undone=True)
        assert row["undone_by"] == "lead@example.com" and row["created_by"] == "trainer@example.com"
        assert list_curated(s) == []


def test_a_short_approved_answer_needs_its_source_and_is_answerable(kb, migrated_db):
    kb.search("warm up", groups={"*"})
    with migrated_db.session() as s, pytest.raises(DataError, match="source"):
        add_curated(s, questions=["is chatgpt allowed"], created_by="t", answer="Yes, the enterprise plan only.")
    with migrated_db.session() as s:
        add_curated(s, questions=["is chatgpt allowed"], created_by="t", answer="Yes, the enterprise plan only.",
                    source="https://intranet.example.com/ai-policy")
    res = kb.search("is chatgpt allowed at work", groups={"*"})
    assert res.answerable and res.curated.answer == "Yes, the enterprise plan only."
    assert res.curated.source == "https://intranet.example.com/ai-policy"


def test_curate_cli_add_list_undo(cli, articles):  # noqa: F811
    assert cli("kb", "import", str(articles)).exit_code == 0
    added = cli("kb", "curate", "add", "-q", QUESTION, "--article", "network/vpn", "--by", "ana", "--json")
    assert added.exit_code == 0, added.output
    (entry,) = json.loads(added.output)["ids"]
    assert cli("kb", "curate", "add", "-q", QUESTION, "--article", "nope/none").exit_code == 1
    (row,) = json.loads(cli("kb", "curate", "list", "--json").output)
    assert row["created_by"] == "ana" and row["article_id"] == "network/vpn"
    gaps = cli("kb", "gaps")  # trainers see what was curated, by whom and when, beside the gaps
    assert gaps.exit_code == 0 and f"#{entry} “{QUESTION}” → network/vpn, by ana at " in gaps.output
    (shown,) = json.loads(cli("kb", "gaps", "--json").output)["curated"]
    assert shown["created_by"] == "ana" and shown["created_at"] == row["created_at"]
    assert cli("kb", "curate", "undo", str(entry), "--by", "bo").exit_code == 0
    assert json.loads(cli("kb", "gaps", "--json").output)["curated"] == []
    assert json.loads(cli("kb", "curate", "list", "--json").output) == []
    assert json.loads(cli("kb", "curate", "list", "--all", "--json").output)[0]["undone_by"] == "bo"
