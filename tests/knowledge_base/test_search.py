"""Hybrid search: audience restriction, declining below the threshold, incremental re-indexing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from knowledge_base.models import KbChunk

pytestmark = pytest.mark.slow  # loads the sentence encoder


def test_first_search_imports_the_configured_folder(kb):
    result = kb.search("how do I connect to the VPN from home")
    assert result.answerable and result.top.info.id == "network/vpn"


def test_audience_restricted_articles_are_only_shown_to_members(kb):
    question = "where are the break-glass account passwords kept"
    member = kb.search(question, groups={"it-staff"})
    assert member.top.info.id == "it-staff/admin" and member.answerable
    for groups in (set(), {"finance"}):
        others = kb.search(question, groups=groups)
        assert all(h.info.id != "it-staff/admin" for h in others.hits)


def test_unrelated_question_is_below_the_threshold(kb):
    result = kb.search("what is on the cafeteria menu today")
    assert not result.answerable and result.confidence < kb.threshold


def test_threshold_setting_overrides_the_calibrated_value(kb, kb_settings, migrated_db, counting_encoder):
    from knowledge_base.factory import build_knowledge_base

    question = "how do I connect to the VPN from home"
    assert kb.search(question).answerable
    kb_settings.kb.answer_threshold = 0.99
    strict = build_knowledge_base(kb_settings.kb, migrated_db, lambda: counting_encoder)
    assert not strict.search(question).answerable


def test_stored_vectors_mean_a_restart_encodes_nothing(kb, kb_settings, migrated_db, counting_encoder):
    from knowledge_base.factory import build_knowledge_base

    kb.search("vpn")  # imports + encodes the folder
    counting_encoder.seen.clear()
    fresh = build_knowledge_base(kb_settings.kb, migrated_db, lambda: counting_encoder)
    vector = counting_encoder.inner.encode_one("printing with my badge")
    result = fresh.search("printing with my badge", vector)
    assert result.top.info.id == "help/printing"
    assert counting_encoder.seen == []  # chunk vectors came from the database, the question's was shared


def test_editing_one_article_reindexes_only_that_article(kb, kb_settings, articles, migrated_db, counting_encoder):
    kb.import_dir(articles)
    with migrated_db.session() as s:
        before = {(c.article_id, c.text_hash): c.id for c in s.scalars(select(KbChunk))}
    counting_encoder.seen.clear()
    path = articles / "network" / "vpn.md"
    path.write_text(path.read_text().replace("personal computers cannot connect.",
                                             "personal computers cannot connect; use Outlook on the web."))
    summary = kb.import_dir(articles)
    assert summary.updated == ["network/vpn"]
    # only the changed section was re-encoded
    assert len(counting_encoder.seen) == 1 and "Outlook on the web" in counting_encoder.seen[0]
    with migrated_db.session() as s:
        after = {(c.article_id, c.text_hash): c.id for c in s.scalars(select(KbChunk))}
    untouched = {k: v for k, v in before.items() if k[0] != "network/vpn"}
    assert all(after.get(k) == v for k, v in untouched.items())  # other articles' rows are untouched
    # a second service instance (another process) picks up exactly that article
    from knowledge_base.factory import build_knowledge_base

    other = build_knowledge_base(kb_settings.kb, migrated_db, lambda: counting_encoder)
    other.sync()
    path.write_text(path.read_text().replace("Outlook on the web", "Teams on the web"))
    kb.import_dir(articles)
    assert other.sync() == ["network/vpn"]
    assert other.search("use Teams on the web from a personal computer").top.info.id == "network/vpn"


def test_a_pages_subtitle_is_searched_with_its_title(kb, articles):
    (articles / "travel").mkdir()
    (articles / "travel" / "concur.md").write_text(
        "---\ntitle: Get access to Concur\nsubtitle: \"First-time travel guide: Step 1a\"\n---\n\n"
        "There are four required steps before your account is set up in Concur.\n")
    (articles / "travel" / "contents.md").write_text(
        "---\ntitle: Travel guide contents\n---\n\n- First-time travel guide\n  - Step 1a: access\n"
        "  - Step 1b: a travel card\n- Booking travel\n")
    kb.import_dir(articles)
    found = kb.search("first-time travel guide step 1a")
    assert found.top.info.id == "travel/concur" and found.top.best.is_card
