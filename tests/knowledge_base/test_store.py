"""Import, versions, retirement, idempotency and the lossless export round trip (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from knowledge_base.models import KbArticle, KbArticleVersion
from knowledge_base.store import export_folder
from tests.knowledge_base.conftest import PRINTING, write

pytestmark = pytest.mark.slow  # loads the sentence encoder


def _versions(db, aid):
    with db.session() as s:
        return [(v.version, v.change) for v in s.scalars(
            select(KbArticleVersion).where(KbArticleVersion.article_id == aid).order_by(KbArticleVersion.version))]


def test_import_export_round_trip_is_byte_exact(kb, articles, migrated_db, tmp_path):
    (articles / "help" / "crlf.md").write_bytes("---\r\ntitle: Caf\u00e9 \u2615\r\n---\r\nLine\r\n".encode())
    summary = kb.import_dir(articles)
    assert sorted(summary.created) == ["help/crlf", "help/printing", "it-staff/admin", "network/vpn"]
    out = tmp_path / "export"
    with migrated_db.session() as s:
        written = export_folder(s, out)
    assert len(written) == 4
    for path in articles.rglob("*.md"):
        rel = path.relative_to(articles)
        assert (out / rel).read_bytes() == path.read_bytes(), rel
    # and re-importing the export changes nothing
    again = kb.import_dir(out)
    assert again.changed == [] and again.retired == [] and len(again.unchanged) == 4


def test_reimport_is_idempotent(kb, articles):
    kb.import_dir(articles)
    second = kb.import_dir(articles)
    assert second.created == second.updated == second.retired == []
    assert sorted(second.unchanged) == ["help/printing", "it-staff/admin", "network/vpn"]


def test_edit_makes_new_version_and_removal_retires(kb, articles, migrated_db):
    kb.import_dir(articles)
    vpn = articles / "network" / "vpn.md"
    vpn.write_text(vpn.read_text().replace("globe icon", "shield icon"), encoding="utf-8")
    (articles / "help" / "printing.md").unlink()
    summary = kb.import_dir(articles)
    assert summary.updated == ["network/vpn"] and summary.retired == ["help/printing"]
    assert _versions(migrated_db, "network/vpn") == [(1, "created"), (2, "updated")]
    assert _versions(migrated_db, "help/printing") == [(1, "created"), (2, "retired")]
    with migrated_db.session() as s:
        texts = [v.raw_text for v in s.scalars(select(KbArticleVersion).where(
            KbArticleVersion.article_id == "network/vpn").order_by(KbArticleVersion.version))]
        assert "globe icon" in texts[0] and "shield icon" in texts[1]  # nothing overwritten
        assert s.get(KbArticle, "help/printing").retired
    # retired articles are no longer found; their history stays
    assert all(h.info.id != "help/printing" for h in kb.search("how do I print with my badge").hits)
    write(articles, "help/printing.md", PRINTING)
    restored = kb.import_dir(articles)
    assert restored.restored == ["help/printing"]
    assert _versions(migrated_db, "help/printing")[-1] == (3, "restored")


def test_one_bad_file_never_aborts_the_import(kb, articles):
    write(articles, "broken.md", "---\ntitle: [unclosed\n---\nbody\n")
    (articles / "latin1.md").write_bytes("---\ntitle: caf\xe9\n---\n".encode("latin-1"))
    summary = kb.import_dir(articles)
    assert len(summary.created) == 3
    messages = sorted(e.message for e in summary.errors)
    assert messages[0].startswith("broken.md:2:") and "front matter" in messages[0]
    assert messages[1].startswith("latin1.md:") and "UTF-8" in messages[1]
    assert summary.to_dict()["counts"]["errors"] == 2


def test_drafts_are_stored_but_not_searchable(kb, articles):
    write(articles, "draft.md", "---\ntitle: Secret printer plan\nstatus: draft\n---\nBadge printing plan.\n")
    kb.import_dir(articles)
    assert "draft" not in kb.index.articles
    assert "help/printing" in kb.index.articles
