"""The 18F handbook (236 real pages with Liquid tags and front matter variants) imports without errors."""

from __future__ import annotations

from sqlalchemy import func, select

from knowledge_base.importer import prepare_chunks
from knowledge_base.models import KbArticle, KbArticleVersion
from knowledge_base.store import ImportSummary, read_folder, store_articles
from tests.conftest import shared_path


def test_18f_pages_parse_store_and_chunk_cleanly(migrated_db):
    pages = shared_path("benchmarks", "kb-18f", "pages")
    summary = ImportSummary()
    articles = read_folder(pages, summary.errors)
    assert summary.errors == []
    assert len(articles) == 238  # 236 pages + LICENSE.md + NOTICE.md
    with migrated_db.session() as s:
        store_articles(s, articles, summary, retire_missing=True)
    assert len(summary.created) == 238
    with migrated_db.session() as s:
        assert s.scalar(select(func.count()).select_from(KbArticle)) == 238
        zoom = s.get(KbArticle, "tools/zoom")
        assert zoom.title == "Zoom" and zoom.path == "tools/zoom.md"
        raw = s.scalars(select(KbArticleVersion.raw_text).where(KbArticleVersion.article_id == "tools/zoom")).one()
        assert raw == (pages / "tools" / "zoom.md").read_text(encoding="utf-8")
    for art in articles:
        chunks = prepare_chunks(art.title, art.body, art.aliases, art.tags)
        assert all("{%" not in c.text and "{{" not in c.text for c in chunks), art.path
