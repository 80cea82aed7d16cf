"""Curated answers: a trainer links a question (or a gaps cluster) to an article, or writes a short approved answer.

A new question that is a close paraphrase of a curated one (cosine ≥
``PARAPHRASE``) gets that answer, marked as curated. Every entry records who
made it and when; ``undo`` keeps the row (who/when undone) and stops it applying.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.encoding import DIM, EncoderProvider, Vector
from bot.errors import DataError
from bot.storage.base import utcnow
from knowledge_base.models import KbArticle, KbCurated

PARAPHRASE = 0.85
MAX_ANSWER = 600  # a curated answer is short; longer belongs in an article


@dataclass(frozen=True)
class CuratedAnswer:
    """What a trainer approved for a question: an article, or a short answer with its source."""

    id: int
    question: str
    article_id: str | None
    answer: str | None
    source: str | None
    created_by: str
    similarity: float = 1.0


def add_curated(session: Session, *, questions: list[str], created_by: str, article_id: str | None = None,
                answer: str | None = None, source: str | None = None) -> list[int]:
    """Store one curated entry per question (e.g. every question of a gaps cluster); returns their ids."""
    if (article_id is None) == (answer is None):
        raise DataError("Give either an article id or a short answer (with its source).")
    if article_id is not None:
        art = session.get(KbArticle, article_id)
        if art is None or art.retired:
            raise DataError(f"No live article with id '{article_id}'; `helpdesk kb list` shows the ids.")
    if answer is not None:
        if len(answer) > MAX_ANSWER:
            raise DataError(f"A curated answer is at most {MAX_ANSWER} characters; write an article instead.")
        if not source:
            raise DataError("A curated answer needs its source (a link or a document).")
    qs = [q.strip() for q in questions if q.strip()]
    if not qs:
        raise DataError("Give at least one question.")
    rows = [KbCurated(question=q[:2000], article_id=article_id, answer=answer, source=source, created_by=created_by,
                      created_at=utcnow()) for q in qs]
    session.add_all(rows)
    session.flush()
    return [r.id for r in rows]


def undo_curated(session: Session, entry_id: int, *, undone_by: str) -> None:
    """Stop a curated entry applying (the row and its history stay)."""
    row = session.get(KbCurated, entry_id)
    if row is None or row.undone_at is not None:
        raise DataError(f"No active curated entry {entry_id}; `helpdesk kb curate list` shows them.")
    row.undone_at, row.undone_by = utcnow(), undone_by


def list_curated(session: Session, *, include_undone: bool = False) -> list[dict[str, Any]]:
    """Every (active) curated entry with who/when, newest first."""
    stmt = select(KbCurated).order_by(KbCurated.id.desc())
    if not include_undone:
        stmt = stmt.where(KbCurated.undone_at.is_(None))
    return [{"id": r.id, "question": r.question, "article_id": r.article_id, "answer": r.answer, "source": r.source,
             "created_by": r.created_by, "created_at": r.created_at.isoformat(timespec="seconds"),
             "undone_by": r.undone_by,
             "undone_at": r.undone_at.isoformat(timespec="seconds") if r.undone_at else None}
            for r in session.scalars(stmt)]


class CuratedMatcher:
    """The active curated entries as vectors; the best one for a question's embedding, if it is a paraphrase."""

    def __init__(self, encoder_provider: EncoderProvider | None) -> None:
        self.encoder_provider = encoder_provider
        self._marker: tuple[int, int] | None = None
        self._entries: list[CuratedAnswer] = []
        self._vectors = np.zeros((0, DIM), dtype=np.float32)
        self._lock = threading.Lock()

    def refresh(self, session: Session) -> None:
        """Reload when an entry was added or undone since the last call."""
        if self.encoder_provider is None:
            return
        rows = session.execute(select(KbCurated).where(KbCurated.undone_at.is_(None))).scalars().all()
        marker = (len(rows), max((r.id for r in rows), default=0))
        with self._lock:
            if marker == self._marker:
                return
            entries = [CuratedAnswer(r.id, r.question, r.article_id, r.answer, r.source, r.created_by) for r in rows]
            vecs = (np.asarray(self.encoder_provider().encode([e.question for e in entries]), dtype=np.float32)
                    if entries else np.zeros((0, DIM), dtype=np.float32))
            self._entries, self._vectors, self._marker = entries, vecs, marker

    def match(self, vector: Vector | None) -> CuratedAnswer | None:
        """The closest active entry when the question paraphrases it (newest wins a tie)."""
        with self._lock:
            if vector is None or not self._entries:
                return None
            sims = self._vectors @ np.asarray(vector, dtype=np.float32)
            best = int(np.argmax(sims))
            if sims[best] < PARAPHRASE:
                return None
            e = self._entries[best]
        return CuratedAnswer(e.id, e.question, e.article_id, e.answer, e.source, e.created_by, float(sims[best]))


__all__ = ["CuratedAnswer", "CuratedMatcher", "add_curated", "list_curated", "undo_curated"]
