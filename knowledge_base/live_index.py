"""The in-process search index kept in step with the article tables (only changed articles are re-read)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.encoding import DIM, Vector
from bot.storage.session import Database
from knowledge_base.embeddings import from_bytes
from knowledge_base.index import ArticleInfo, ChunkInput, HybridIndex
from knowledge_base.models import KbArticle, KbArticleVersion, KbChunk
from knowledge_base.store import session_scope
from knowledge_base.text import tokens

_MARKER = select(func.max(KbArticleVersion.id), func.count(KbArticleVersion.id))


class LiveIndex:
    """A :class:`HybridIndex` of the published, live articles of one database."""

    def __init__(self, db: Database, *, dim: int = DIM) -> None:
        self.db = db
        self.dim = dim
        self.index = HybridIndex(dim=dim)
        self.lock = threading.RLock()
        self._marker: tuple[int, int] | None = None

    def _db_marker(self, session: Session) -> tuple[int, int]:
        # every turn asks this: one prebuilt Core statement on the session's connection (no ORM overhead)
        top, count = session.connection().execute(_MARKER).one()
        return int(top or 0), int(count or 0)

    def sync(self, session: Session | None = None, *, on_empty: Callable[[], None] | None = None) -> list[str]:
        """Bring the index in step with the database; only changed articles are re-read. Returns them.

        ``on_empty`` is called when the database changed to having no article version at all.
        """
        with self.lock, session_scope(self.db, session) as db:
            marker = self._db_marker(db)
            if marker == self._marker:
                return []
            if marker == (0, 0) and on_empty is not None:
                on_empty()
            rows = db.execute(select(KbArticle.id, KbArticle.content_hash, KbArticle.retired,
                                     KbArticle.status, KbArticle.title, KbArticle.path,
                                     KbArticle.audience, KbArticle.review_by)).all()
            live = {r.id: r for r in rows if not r.retired and r.status == "published"}
            touched = [aid for aid in list(self.index.articles) if aid not in live]
            for aid in touched:
                self.index.remove(aid)
            stale = [aid for aid, r in live.items()
                     if aid not in self.index.articles or self.index.articles[aid].content_hash != r.content_hash
                     or self.index.articles[aid].title != r.title]
            for start in range(0, len(stale), 500):
                batch = stale[start:start + 500]
                chunks: dict[str, list[KbChunk]] = {aid: [] for aid in batch}
                for c in db.scalars(select(KbChunk).where(KbChunk.article_id.in_(batch))
                                    .order_by(KbChunk.article_id, KbChunk.ordinal)):
                    chunks[c.article_id].append(c)
                for aid in batch:
                    r = live[aid]
                    info = ArticleInfo(aid, r.title, r.path, tuple(r.audience or ()), r.review_by, r.content_hash)
                    title_terms = tokens(r.title)
                    inputs = []
                    for c in chunks[aid]:
                        # ordinal 0 is the title/alias card; the others are section parts
                        terms = tokens(c.text) if c.ordinal == 0 else (
                            title_terms + tokens(c.section or "") + tokens(c.text))
                        inputs.append(ChunkInput(c.section, c.text, terms, from_bytes(c.embedding, self.dim),
                                                 is_card=c.ordinal == 0))
                    self.index.upsert(info, inputs)
            if touched or stale:
                self.index.prepare(background=True)  # a re-pack must not stall the turn that synced
            self._marker = marker
            return touched + stale

    def audiences(self) -> frozenset[str]:
        """Every audience group some indexed article is restricted to."""
        with self.lock:
            return frozenset(a for info in self.index.articles.values() for a in info.audience)

    def card(self, article_id: str) -> tuple[str, Vector | None] | None:
        """The article's title card (title, aliases, tags) and its vector; None for an article not indexed."""
        with self.lock:
            index = self.index
            row = next((r for r in index.article_rows.get(article_id, []) if index.row_card[r]), None)
            if row is None:
                return None
            return index.row_text[row], index.vectors[row].copy()

    def passage(self, article_id: str, row: int, min_words: int = 40) -> str:
        """The chunk at ``row``, extended with the article's following chunks while it is very short."""
        with self.lock:
            index = self.index
            rows = index.article_rows.get(article_id, [])
            if row not in rows:
                return index.row_text[row] if 0 <= row < len(index.row_text) else ""
            parts: list[str] = []
            for r in rows[rows.index(row):]:
                if index.row_card[r]:
                    continue
                section = index.row_section[r]
                text = index.row_text[r]
                parts.append(text if not parts or not section else f"{section.split(' > ')[-1]}:\n{text}")
                if len(" ".join(parts).split()) >= min_words:
                    break
            return "\n\n".join(parts)
