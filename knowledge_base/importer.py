"""Importing articles: folder or text in, new versions and freshly encoded chunk rows out.

Chunks of new and changed articles are encoded *before* the write transaction
opens, so a long import never holds the database's write lock while encoding;
vectors of unchanged chunk texts are reused from the database (and from an
optional file cache in scratch evaluations).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.encoding import DIM, EncoderProvider, TextEncoder, Vector
from bot.errors import DataError
from bot.storage.session import Database
from bot.vector_cache import VectorFileCache, text_key
from knowledge_base.chunking import chunk_article
from knowledge_base.embeddings import embed_text, from_bytes, to_bytes
from knowledge_base.models import KbArticle, KbChunk
from knowledge_base.parser import ParsedArticle
from knowledge_base.rechunk import mark_chunked, stale_articles
from knowledge_base.store import ImportSummary, clear_chunks, scan_folder, session_scope, store_articles
from knowledge_base.text import tokens

Progress = Callable[[str, int, int], None]  # (stage, done, total)
# Brings the live index in step after a write (inside the caller's session when one is given).
Sync = Callable[[Session | None], object]


@dataclass
class PreparedChunk:
    """One searchable piece of an article: what is shown, what is encoded, what is matched."""

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


class ArticleImporter:
    """Writes articles, their versions and their encoded chunks; then lets the live index catch up."""

    def __init__(self, db: Database, encoder_provider: EncoderProvider | None, sync: Sync, *,
                 vector_cache: Path | None = None) -> None:
        self.db = db
        self.encoder_provider = encoder_provider
        self._sync = sync
        self.vector_cache = VectorFileCache(vector_cache) if vector_cache else None

    def import_dir(self, root: Path | str, *, retire_missing: bool = True, source: str = "import",
                   progress: Progress | None = None, session: Session | None = None) -> ImportSummary:
        """Make the database match the folder: new/changed files become versions, missing ones retire."""
        root = Path(root)
        if not root.is_dir():
            raise DataError(f"{root} is not a folder of Markdown articles.")
        summary = ImportSummary()
        with session_scope(self.db, session) as read:
            current = {r.id: (r.content_hash, r.path) for r in read.execute(
                select(KbArticle.id, KbArticle.content_hash, KbArticle.path).where(KbArticle.retired.is_(False)))}
        articles, unchanged = scan_folder(root, summary.errors, current)
        with session_scope(self.db, session) as read:
            stale = stale_articles(read, unchanged)  # chunked by an older chunker: re-chunked once
        keep = [e.article_id for e in summary.errors if e.kept_live and e.article_id]
        self._import(articles, summary, retire_missing=retire_missing, source=source, progress=progress,
                     session=session, unchanged=unchanged, keep=keep, stale=stale)
        return summary

    def import_articles(self, articles: list[ParsedArticle], *, source: str,
                        session: Session | None = None) -> ImportSummary:
        """Store these parsed articles (e.g. a console edit) as new versions; nothing else is retired."""
        summary = ImportSummary()
        self._import(articles, summary, retire_missing=False, source=source, session=session)
        return summary

    def _import(self, articles: list[ParsedArticle], summary: ImportSummary, *, retire_missing: bool,
                source: str, progress: Progress | None = None,
                session: Session | None = None, unchanged: list[str] | None = None,
                keep: list[str] | None = None, stale: list[ParsedArticle] | None = None) -> None:
        vectors = self._encode_changed(articles, progress, session, stale or [])

        def on_change(row: KbArticle, art: ParsedArticle | None) -> None:
            self._write_chunks(write, row, art, vectors)

        with session_scope(self.db, session) as write:
            store_articles(write, articles, summary, retire_missing=retire_missing, source=source,
                           on_change=on_change, unchanged=unchanged or (), keep=keep or ())
            for art in stale or []:
                row = write.get(KbArticle, art.id)
                if row is not None:
                    self._write_chunks(write, row, art, vectors)
            write.flush()
            # an import that changed nothing leaves the index as it is (a re-import of an unchanged base in a
            # fresh CLI process would otherwise build the whole in-memory index for nothing; searches sync anyway)
            touched = bool(summary.changed or summary.retired or stale)
            if session is not None and touched:
                self._sync(write)
        if session is None and touched:
            self._sync(None)

    def _cache(self) -> VectorFileCache:
        return self.vector_cache if self.vector_cache is not None else VectorFileCache()

    def _encode_changed(self, articles: list[ParsedArticle], progress: Progress | None,
                        session: Session | None, stale: list[ParsedArticle]) -> dict[str, Vector]:
        """Vectors (by text key) for every chunk of new or changed articles; unchanged texts are reused."""
        with session_scope(self.db, session) as read:
            current = {r.id: (r.content_hash, r.retired, r.path) for r in read.execute(
                select(KbArticle.id, KbArticle.content_hash, KbArticle.retired, KbArticle.path))}
            changed = [a for a in articles if a.status == "published" and current.get(a.id) != (
                a.content_hash, False, a.path)] + stale
            known: dict[str, Vector] = {}
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
        vecs = self._cache().encode(self._encoder, texts, known=known, progress=tick)
        known.update({text_key(t): v for t, v in zip(texts, vecs, strict=True)})
        return known

    def _write_chunks(self, session: Session, row: KbArticle, art: ParsedArticle | None,
                      vectors: dict[str, Vector]) -> None:
        """Replace the chunk rows of one changed article (drafts and retired articles get none)."""
        clear_chunks(session, row.id)
        if art is None or row.retired or art.status != "published":
            return
        chunks = prepare_chunks(art.title, art.body, art.aliases, art.tags)
        keys = [text_key(c.embed_text) for c in chunks]
        missing = [c.embed_text for c, k in zip(chunks, keys, strict=True) if k not in vectors]
        if missing:  # changed since the encoding pass (a concurrent edit)
            fresh = self._cache().encode(self._encoder, missing)
            for t, v in zip(missing, fresh, strict=True):
                vectors[text_key(t)] = v
        for ordinal, (c, key) in enumerate(zip(chunks, keys, strict=True)):
            session.add(KbChunk(article_id=row.id, ordinal=ordinal, section=c.section[:500] if c.section else None,
                                text=c.text, text_hash=key, embedding=to_bytes(vectors[key])))
        mark_chunked(session, row.id)

    def _encoder(self) -> TextEncoder:
        if self.encoder_provider is None:
            raise DataError("No sentence encoder is available to index articles.")
        return self.encoder_provider()
