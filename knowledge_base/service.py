"""The knowledge-base service: import/export, the live hybrid index, search with a decline threshold."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import DataError
from bot.storage.session import Database
from knowledge_base.chunking import chunk_article
from knowledge_base.embeddings import (
    VectorFileCache,
    embed_text,
    encode_missing,
    from_bytes,
    text_hash,
    to_bytes,
)
from knowledge_base.index import ArticleHit, ArticleInfo, ChunkInput, HybridIndex
from knowledge_base.models import KbArticle, KbArticleVersion, KbChunk
from knowledge_base.parser import ParsedArticle, parse_article
from knowledge_base.store import ImportSummary, clear_chunks, scan_folder, store_articles
from knowledge_base.text import tokens

log = logging.getLogger(__name__)
DIM = 384
# Below this confidence the bot declines. Calibrated on 92 labelled questions (the bundled
# articles' tests/knowledge_base/questions.jsonl and the 18F dev set): at 0.44, 88% of the
# answerable ones are answered and 67% of the unanswerable ones declined; `helpdesk kb eval`
# prints the trade-off for any corpus, and kb.answer_threshold overrides it.
DEFAULT_THRESHOLD = 0.44


@dataclass
class SearchResult:
    """Ranked articles for a question and whether the best one is good enough to answer with."""

    question: str
    hits: list[ArticleHit] = field(default_factory=list)
    confidence: float = 0.0
    threshold: float = DEFAULT_THRESHOLD

    @property
    def answerable(self) -> bool:
        return bool(self.hits) and self.confidence >= self.threshold

    @property
    def top(self) -> ArticleHit | None:
        return self.hits[0] if self.hits else None


@dataclass
class PreparedChunk:
    section: str | None
    text: str
    embed_text: str
    terms: list[str]


def prepare_chunks(title: str, body: str, aliases: list[str], tags: list[str]) -> list[PreparedChunk]:
    """The article's searchable pieces: a title/alias card, then one piece per section part."""
    card = ". ".join([title, *aliases, *tags])
    prepared = [PreparedChunk(None, card, card, tokens(card))]
    title_terms = tokens(title)
    for chunk in chunk_article(title, body):
        section_terms = tokens(chunk.section or "")
        prepared.append(PreparedChunk(chunk.section, chunk.text, embed_text(title, chunk.section, chunk.text),
                                      title_terms + section_terms + tokens(chunk.text)))
    return prepared


def confidence_of(hit: ArticleHit | None) -> float:
    """How sure we are that ``hit`` answers the question (0..1).

    Either half of retrieval can vouch for an article: the best section's meaning
    (cosine similarity) or its wording (BM25 normalised by the query's ideal score).
    Ranking uses the fused score; the decision to answer uses the stronger signal,
    which separated answerable from unanswerable questions best on our calibration
    questions (ROC AUC 0.90 vs 0.88 for the fused score).
    """
    if hit is None:
        return 0.0
    return float(max(hit.dense, hit.lexical))


class KnowledgeBase:
    """Articles in the database, searchable through an in-process index kept in step with it."""

    def __init__(self, settings: Any, db: Database, encoder_provider: Callable[[], Any] | None,
                 *, vector_cache: Path | None = None) -> None:
        self.settings = settings
        self.db = db
        self.encoder_provider = encoder_provider
        self.index = HybridIndex(dim=DIM)
        self._marker: tuple[int, int] | None = None
        self._lock = threading.RLock()
        self._bootstrapped = False
        self.vector_cache = VectorFileCache(vector_cache) if vector_cache else None

    # --- settings -------------------------------------------------------------
    @property
    def threshold(self) -> float:
        override = getattr(self.settings.kb, "answer_threshold", None)
        return DEFAULT_THRESHOLD if override is None else float(override)

    # --- import ---------------------------------------------------------------
    def _session(self, session: Session | None) -> Any:
        """The caller's session (no commit here), or a new one committed on exit."""
        return nullcontext(session) if session is not None else self.db.session()

    def import_dir(self, root: Path | str, *, retire_missing: bool = True, source: str = "import",
                   progress: Callable[[str, int, int], None] | None = None,
                   session: Session | None = None) -> ImportSummary:
        """Make the database match the folder: new/changed files become versions, missing ones retire.

        Chunks of new and changed articles are encoded *before* the write transaction
        opens, so a long import never holds the database's write lock while encoding.
        """
        root = Path(root)
        if not root.is_dir():
            raise DataError(f"{root} is not a folder of Markdown articles.")
        summary = ImportSummary()
        with self._session(session) as read:
            current = {r.id: (r.content_hash, r.path) for r in read.execute(
                select(KbArticle.id, KbArticle.content_hash, KbArticle.path).where(KbArticle.retired.is_(False)))}
        articles, unchanged = scan_folder(root, summary.errors, current)
        self._import(articles, summary, retire_missing=retire_missing, source=source, progress=progress,
                     session=session, unchanged=unchanged)
        return summary

    def save_article(self, text: str, rel_path: str, *, source: str = "cli") -> ImportSummary:
        """Add or edit one article from its text (a new version when it changed)."""
        summary = ImportSummary()
        self._import([parse_article(text, rel_path)], summary, retire_missing=False, source=source)
        return summary

    def _import(self, articles: list[ParsedArticle], summary: ImportSummary, *, retire_missing: bool,
                source: str, progress: Callable[[str, int, int], None] | None = None,
                session: Session | None = None, unchanged: list[str] | None = None) -> None:
        vectors = self._encode_changed(articles, progress, session)

        def on_change(row: KbArticle, art: ParsedArticle | None) -> None:
            self._write_chunks(write, row, art, vectors)

        with self._session(session) as write:
            store_articles(write, articles, summary, retire_missing=retire_missing, source=source,
                           on_change=on_change, unchanged=unchanged or ())
            write.flush()
            if session is not None:
                self.sync(session=write)
        if session is None:
            self.sync()

    def retire_article(self, article_id: str, *, source: str = "cli") -> bool:
        from knowledge_base.store import retire

        with self.db.session() as session:
            row = session.get(KbArticle, article_id)
            if row is None or row.retired:
                return False
            retire(session, row, source=source)
            clear_chunks(session, article_id)
        self.sync()
        return True

    def _encode_changed(self, articles: list[ParsedArticle], progress: Callable[[str, int, int], None] | None,
                        session: Session | None) -> dict[str, np.ndarray]:
        """Vectors (by text hash) for every chunk of new or changed articles; unchanged texts are reused."""
        with self._session(session) as read:
            current = {r.id: (r.content_hash, r.retired, r.path) for r in read.execute(
                select(KbArticle.id, KbArticle.content_hash, KbArticle.retired, KbArticle.path))}
            changed = [a for a in articles if a.status == "published" and current.get(a.id) != (
                a.content_hash, False, a.path)]
            known: dict[str, np.ndarray] = {}
            ids = [a.id for a in changed if a.id in current]
            for start in range(0, len(ids), 500):
                for h, e in read.execute(select(KbChunk.text_hash, KbChunk.embedding)
                                         .where(KbChunk.article_id.in_(ids[start:start + 500]))):
                    vec = from_bytes(e, DIM)
                    if vec is not None:
                        known[h] = vec
        texts = [c.embed_text for a in changed for c in prepare_chunks(a.title, a.body, a.aliases, a.tags)]
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress:
                progress("encoding", done[0], len(texts))

        if not texts:
            return known
        vecs = encode_missing(self._encoder, texts, known, self.vector_cache, tick)
        known.update({text_hash(t): v for t, v in zip(texts, vecs)})
        return known

    def _write_chunks(self, session: Session, row: KbArticle, art: ParsedArticle | None,
                      vectors: dict[str, np.ndarray]) -> None:
        """Replace the chunk rows of one changed article (drafts and retired articles get none)."""
        clear_chunks(session, row.id)
        if art is None or row.retired or art.status != "published":
            return
        chunks = prepare_chunks(art.title, art.body, art.aliases, art.tags)
        keys = [text_hash(c.embed_text) for c in chunks]
        missing = [c.embed_text for c, k in zip(chunks, keys) if k not in vectors]
        if missing:  # changed since the encoding pass (a concurrent edit)
            for t, v in zip(missing, encode_missing(self._encoder, missing, {}, self.vector_cache)):
                vectors[text_hash(t)] = v
        for ordinal, (c, key) in enumerate(zip(chunks, keys)):
            session.add(KbChunk(article_id=row.id, ordinal=ordinal, section=c.section[:500] if c.section else None,
                                text=c.text, text_hash=key, embedding=to_bytes(vectors[key])))

    def _encoder(self) -> Any:
        if self.encoder_provider is None:
            raise DataError("No sentence encoder is available to index articles.")
        return self.encoder_provider()

    # --- the live index ---------------------------------------------------------
    def bootstrap(self, session: Session | None = None) -> None:
        """First use: import ``kb.articles_dir`` when the article table is empty.

        Pass the caller's open session (e.g. the turn's) so the import joins its
        transaction instead of waiting for its write lock (SQLite).
        """
        if self._bootstrapped:
            return
        with self._lock:
            if self._bootstrapped:
                return
            with self._session(session) as s:
                empty = s.scalar(select(func.count()).select_from(KbArticle)) == 0
            folder = Path(self.settings.kb.articles_dir)
            if empty and folder.is_dir():
                log.info("knowledge base is empty: importing %s", folder)
                summary = self.import_dir(folder, source="bootstrap", session=session)
                for err in summary.errors:
                    log.warning("article skipped: %s", err.message)
            self._bootstrapped = True

    def _db_marker(self, session: Session) -> tuple[int, int]:
        top = session.scalar(select(func.max(KbArticleVersion.id))) or 0
        count = session.scalar(select(func.count()).select_from(KbArticleVersion)) or 0
        return int(top), int(count)

    def sync(self, session: Session | None = None) -> list[str]:
        """Bring the index in step with the database; only changed articles are re-read. Returns them."""
        with self._lock, self._session(session) as db:
            marker = self._db_marker(db)
            if marker == self._marker:
                return []
            if marker == (0, 0):  # empty (e.g. a first-use import was rolled back): import again later
                self._bootstrapped = False
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
                        inputs.append(ChunkInput(c.section, c.text, terms, from_bytes(c.embedding, DIM),
                                                 is_card=c.ordinal == 0))
                    self.index.upsert(info, inputs)
            self._marker = marker
            return touched + stale

    # --- search -------------------------------------------------------------------
    def search(self, text: str, embedding: np.ndarray | None = None, *, groups: frozenset[str] | set[str] = frozenset(),
               k: int = 5, session: Session | None = None) -> SearchResult:
        """Rank articles for ``text`` (pass the message's shared embedding to avoid re-encoding).

        ``session``: the caller's open transaction, used for the first-use import.
        """
        self.bootstrap(session)
        self.sync(session)
        if embedding is None and self.encoder_provider is not None:
            embedding = self.encoder_provider().encode_one(text)
        with self._lock:
            hits = self.index.search(tokens(text), embedding, groups=frozenset(groups), k=k)
        return SearchResult(text, hits, confidence_of(hits[0] if hits else None), self.threshold)

    def related(self, hit: ArticleHit, *, groups: frozenset[str], exclude: set[str], k: int = 2) -> list[ArticleHit]:
        """Articles close to ``hit`` (by its best chunk's vector), for "see also"."""
        with self._lock:
            vec = self.index.vectors[hit.best.row].copy()
            terms = tokens(hit.info.title)
            found = self.index.search(terms, vec, groups=groups, k=k + len(exclude) + 1)
        return [h for h in found if h.info.id not in exclude][:k]

    # --- trainers' views --------------------------------------------------------------
    def current_articles(self) -> list[ParsedArticle]:
        """Every live article, parsed from its current version's text (for lint)."""
        out = []
        with self.db.session() as session:
            rows = session.scalars(select(KbArticle).where(KbArticle.retired.is_(False))).all()
            for row in rows:
                ver = session.scalars(select(KbArticleVersion).where(KbArticleVersion.article_id == row.id)
                                      .order_by(KbArticleVersion.version.desc()).limit(1)).first()
                if ver is not None:
                    try:
                        out.append(parse_article(ver.raw_text, row.path))
                    except DataError:
                        continue
        return out

    def passage(self, article_id: str, row: int, min_words: int = 40) -> str:
        """The chunk at ``row``, extended with the article's following chunks while it is very short."""
        with self._lock:
            rows = self.index.article_rows.get(article_id, [])
            if row not in rows:
                return self.index.row_text[row] if 0 <= row < len(self.index.row_text) else ""
            parts: list[str] = []
            for r in rows[rows.index(row):]:
                if self.index.row_card[r]:
                    continue
                section = self.index.row_section[r]
                text = self.index.row_text[r]
                parts.append(text if not parts or not section else f"{section.split(' > ')[-1]}:\n{text}")
                if len(" ".join(parts).split()) >= min_words:
                    break
            return "\n\n".join(parts)
