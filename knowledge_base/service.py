"""The knowledge base as the bot uses it: search with a decline threshold over a live index of the articles.

:class:`KnowledgeBase` composes the importer (``knowledge_base.importer``), the
live index (``knowledge_base.live_index``) and the trainers' views
(``knowledge_base.catalog``); on first use it imports the configured folder
when the database has no article yet.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.encoding import DIM, EncoderProvider, Vector
from bot.storage.session import Database
from knowledge_base import catalog
from knowledge_base.compose import asks_how, best_chunk, section_to_quote
from knowledge_base.curated import CuratedAnswer, CuratedMatcher
from knowledge_base.feedback import RatingFeedback
from knowledge_base.importer import ArticleImporter, Progress
from knowledge_base.index import ArticleHit, ChunkHit, HybridIndex
from knowledge_base.live_index import LiveIndex
from knowledge_base.models import KbArticle
from knowledge_base.parser import ParsedArticle
from knowledge_base.search import DEFAULT_THRESHOLD, SearchResult, confidence_of
from knowledge_base.store import ImportSummary, export_folder, session_scope
from knowledge_base.text import tokens

log = logging.getLogger(__name__)
FEEDBACK_EXTRA = 3  # extra candidates fetched so a promoted article can rise into the top k


class KnowledgeBase:
    """Articles in the database, searchable through an in-process index kept in step with it.

    ``articles_dir``: imported on first use when the database has no article
    (None: never). ``threshold``: the confidence below which :meth:`search`
    says "not answerable" (None: the calibrated default).
    """

    def __init__(self, db: Database, encoder_provider: EncoderProvider | None, *,
                 articles_dir: Path | None = None, threshold: float | None = None,
                 vector_cache: Path | None = None) -> None:
        self.db = db
        self.encoder_provider = encoder_provider
        self.articles_dir = Path(articles_dir) if articles_dir is not None else None
        self.threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        self.live = LiveIndex(db, dim=DIM)
        self.importer = ArticleImporter(db, encoder_provider, self.sync, vector_cache=vector_cache)
        self._bootstrapped = False
        self.feedback = RatingFeedback(encoder_provider)
        self.curated = CuratedMatcher(encoder_provider)

    @property
    def index(self) -> HybridIndex:
        """The live index's current contents."""
        return self.live.index

    # --- import -----------------------------------------------------------------
    def import_dir(self, root: Path | str, *, retire_missing: bool = True, source: str = "import",
                   progress: Progress | None = None, session: Session | None = None) -> ImportSummary:
        """Make the database match the folder: new/changed files become versions, missing ones retire."""
        return self.importer.import_dir(root, retire_missing=retire_missing, source=source, progress=progress,
                                        session=session)

    def mark_bootstrapped(self) -> None:
        """An explicit import replaces the first-use import of ``articles_dir``."""
        self._bootstrapped = True

    def bootstrap(self, session: Session | None = None) -> None:
        """First use: import ``articles_dir`` when the article table is empty.

        Pass the caller's open session (e.g. the turn's) so the import joins its
        transaction instead of waiting for its write lock (SQLite).
        """
        if self._bootstrapped:
            return
        with self.live.lock:
            if self._bootstrapped:
                return
            with session_scope(self.db, session) as s:
                empty = s.scalar(select(func.count()).select_from(KbArticle)) == 0
            folder = self.articles_dir
            if empty and folder is not None and folder.is_dir():
                log.info("knowledge base is empty: importing %s", folder)
                summary = self.import_dir(folder, source="bootstrap", session=session)
                for err in summary.errors:
                    log.warning("article skipped: %s", err.message)
            self._bootstrapped = True

    def sync(self, session: Session | None = None) -> list[str]:
        """Bring the index in step with the database; only changed articles are re-read. Returns them."""
        return self.live.sync(session, on_empty=self._forget_bootstrap)

    def _forget_bootstrap(self) -> None:
        # the database is empty (e.g. a first-use import was rolled back): import again on next use
        self._bootstrapped = False

    # --- search -------------------------------------------------------------------
    def search(self, text: str, embedding: Vector | None = None, *, groups: frozenset[str] | set[str] = frozenset(),
               k: int = 5, session: Session | None = None) -> SearchResult:
        """Rank articles for ``text`` (pass the message's shared embedding to avoid re-encoding).

        ``session``: the caller's open transaction, used for the first-use import.
        """
        self.bootstrap(session)
        self.sync(session)
        if embedding is None and self.encoder_provider is not None:
            embedding = self.encoder_provider().encode_one(text)
        with self.live.lock:
            hits = self.index.search(tokens(text), embedding, groups=frozenset(groups), k=k + FEEDBACK_EXTRA)
        hits = self._apply_feedback(hits, embedding, session)[:k]
        curated = self._curated(embedding, session)
        if curated is not None and curated.article_id is not None:
            hits = self._curated_first(hits, curated.article_id, text, embedding, groups, k)
        return SearchResult(text, hits, confidence_of(hits[0] if hits else None), self.threshold, curated)

    def _curated(self, embedding: Vector | None, session: Session | None) -> CuratedAnswer | None:
        if embedding is None:
            return None
        with session_scope(self.db, session) as s:
            self.curated.refresh(s)
        return self.curated.match(embedding)

    def _curated_first(self, hits: list[ArticleHit], article_id: str, text: str, embedding: Vector | None,
                       groups: frozenset[str] | set[str], k: int) -> list[ArticleHit]:
        """The curated article on top (when the asker may see it; else the ranking as it was)."""
        found = next((h for h in hits if h.info.id == article_id), None)
        if found is None:
            with self.live.lock:
                wide = self.index.search(tokens(text), embedding, groups=frozenset(groups), k=len(self.index.articles))
            found = next((h for h in wide if h.info.id == article_id), None)
        if found is None:
            return hits
        return [found] + [h for h in hits if h.info.id != article_id][: k - 1]

    def _apply_feedback(self, hits: list[ArticleHit], embedding: Vector | None,
                        session: Session | None) -> list[ArticleHit]:
        """Ratings of close paraphrases move articles up or down (decayed, capped; see knowledge_base.feedback)."""
        if not hits or embedding is None:
            return hits
        with session_scope(self.db, session) as s:
            self.feedback.refresh(s)
        moves = self.feedback.adjustments(embedding)
        if not moves:
            return hits
        for h in hits:
            h.feedback = moves.get(h.info.id, 0.0)
            h.score += h.feedback
        return sorted(hits, key=lambda h: -h.score)

    def related(self, hit: ArticleHit, *, groups: frozenset[str], exclude: set[str], k: int = 2) -> list[ArticleHit]:
        """Articles close to ``hit`` (by its best chunk's vector), for "see also"."""
        with self.live.lock:
            vec = self.index.vectors[hit.best.row].copy()
            terms = tokens(hit.info.title)
            found = self.index.search(terms, vec, groups=groups, k=k + len(exclude) + 1)
        return [h for h in found if h.info.id not in exclude][:k]

    def section_to_quote(self, hit: ArticleHit, question: str, embedding: Vector | None) -> ChunkHit:
        """The chunk of ``hit`` to quote for ``question`` (:func:`knowledge_base.compose.section_to_quote`)."""
        if not asks_how(question):
            return best_chunk(hit)
        with self.live.lock:
            scored = self.index.article_chunks(hit.info.id, tokens(question), embedding)
        return section_to_quote(hit, question, scored)

    def card(self, article_id: str) -> tuple[str, Vector | None] | None:
        """The article's title card text (title, aliases, tags) and its stored vector; None when not indexed."""
        return self.live.card(article_id)

    def passage(self, article_id: str, row: int, min_words: int = 40) -> str:
        """The chunk at ``row``, extended with the article's following chunks while it is very short."""
        return self.live.passage(article_id, row, min_words)

    def audiences(self) -> frozenset[str]:
        """Every audience group some article is restricted to (trainers see them all)."""
        return self.live.audiences()

    # --- trainers' views --------------------------------------------------------------
    def current_articles(self) -> list[ParsedArticle]:
        """Every live article, parsed from its current version's text (for lint)."""
        with self.db.session() as session:
            return catalog.current_articles(session)

    def list_articles(self, *, include_retired: bool = False) -> list[dict[str, Any]]:
        """Every (live) article's metadata."""
        with self.db.session() as session:
            return catalog.list_articles(session, include_retired=include_retired)

    def show_article(self, article_id: str, version: int | None = None) -> dict[str, Any]:
        """One article's metadata and file text (DataError when there is no such article or version)."""
        with self.db.session() as session:
            return catalog.show_article(session, article_id, version)

    def article_history(self, article_id: str) -> list[dict[str, Any]]:
        """Every version of one article (DataError when there is none)."""
        with self.db.session() as session:
            return catalog.article_history(session, article_id)

    def export(self, folder: Path) -> list[str]:
        """Write each live article's current file text under ``folder``; returns the paths written."""
        with self.db.session() as session:
            return export_folder(session, folder)


__all__ = ["DEFAULT_THRESHOLD", "KnowledgeBase", "SearchResult", "confidence_of"]
