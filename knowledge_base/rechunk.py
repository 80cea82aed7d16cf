"""Re-chunking after the chunker changes: articles whose chunks an older chunker made are re-chunked once.

The chunker's format number is stamped on the article's current version (``meta["_chunks"]``) when
its chunks are written; an import re-chunks unchanged articles whose stamp differs (no new version).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from bot.errors import DataError
from knowledge_base.chunking import CHUNK_FORMAT
from knowledge_base.models import KbArticle, KbArticleVersion
from knowledge_base.parser import ParsedArticle, parse_article

STAMP = "_chunks"


def _current_versions(session: Session, ids: list[str]) -> list[KbArticleVersion]:
    out: list[KbArticleVersion] = []
    for start in range(0, len(ids), 500):
        out += session.scalars(select(KbArticleVersion).join(KbArticle, and_(
            KbArticle.id == KbArticleVersion.article_id, KbArticle.current_version == KbArticleVersion.version))
            .where(KbArticle.id.in_(ids[start:start + 500]), KbArticle.retired.is_(False),
                   KbArticle.status == "published")).all()
    return out


def stale_articles(session: Session, ids: Iterable[str]) -> list[ParsedArticle]:
    """Those of ``ids`` (live, published) whose chunks an older chunker made, parsed from their stored text."""
    out = []
    for ver in _current_versions(session, list(ids)):
        if (ver.meta or {}).get(STAMP) == CHUNK_FORMAT:
            continue
        try:
            out.append(parse_article(ver.raw_text, ver.path))
        except DataError:
            continue  # cannot happen for a stored version; never blocks an import
    return out


def mark_chunked(session: Session, article_id: str) -> None:
    """Stamp the article's current version as chunked by this chunker."""
    for ver in _current_versions(session, [article_id]):
        if (ver.meta or {}).get(STAMP) != CHUNK_FORMAT:
            ver.meta = {**(ver.meta or {}), STAMP: CHUNK_FORMAT}
