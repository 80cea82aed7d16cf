"""Learning from ratings: "Not helpful" demotes an article for that question and its close paraphrases.

Each stored rating is a vote for (its question, its article): +1 helpful, -1
not helpful, weighted by how close the new question is to the rated one (only
paraphrases count: cosine ≥ ``PARAPHRASE``) and by its age (half-life
``HALF_LIFE_DAYS``). One person's votes on one article add up to at most one
vote, and an article moves only when at least ``MIN_PEOPLE`` different people
rated it, so nobody can bury (or push) an article alone: one vote (``STEP``)
is more than the gap between the first two articles for many questions (in the
replay benchmark, ``bench/kb_replay.py``, one person's repeated "Not helpful"
took first place from 5 % of the right 18F answers and 30 % of the PostHog ones
before this rule; with it, none). The total change of an article's score is
capped at ``CAP``; a lone rating still reaches the trainers through `kb gaps`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Callable

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.encoding import DIM, EncoderProvider, Vector
from bot.storage.base import utcnow
from knowledge_base.models import KbRating

PARAPHRASE = 0.80
HALF_LIFE_DAYS = 30.0
STEP = 0.06   # score change per (decayed, similarity-weighted) vote
CAP = 0.18    # at most this much up or down per article, however many votes
MIN_PEOPLE = 2  # an article moves only once two different people rated it for close paraphrases


class RatingFeedback:
    """The ratings as vectors, loaded incrementally, and the per-article score change for a question."""

    def __init__(self, encoder_provider: EncoderProvider | None) -> None:
        self.encoder_provider = encoder_provider
        self.clock: Callable[[], dt.datetime] = utcnow  # "now" for the decay (a replay passes a fake clock)
        self._last_id = 0
        self._vectors = np.zeros((0, DIM), dtype=np.float32)
        self._rows: list[tuple[str, int, str, dt.datetime]] = []  # (article, sign, user, when)
        self._lock = threading.Lock()

    def refresh(self, session: Session) -> None:
        """Read (and encode) ratings stored since the last call."""
        if self.encoder_provider is None:
            return
        with self._lock:
            new = session.execute(select(KbRating.id, KbRating.question, KbRating.article_id, KbRating.helpful,
                                         KbRating.user_key, KbRating.created_at)
                                  .where(KbRating.id > self._last_id).order_by(KbRating.id)).all()
            if not new:
                return
            self._last_id = int(new[-1][0])
            new = [r for r in new if r[1] and r[2]]
            if not new:
                return
            vecs = np.asarray(self.encoder_provider().encode([r[1] for r in new]), dtype=np.float32)
            self._vectors = np.vstack([self._vectors, vecs])
            self._rows += [(str(r[2]), 1 if r[3] else -1, str(r[4]), r[5]) for r in new]

    def adjustments(self, vector: Vector | None, now: dt.datetime | None = None) -> dict[str, float]:
        """Per article id: how much the ratings of close paraphrases move its score (within ±CAP)."""
        if vector is None or not self._rows:
            return {}
        with self._lock:
            sims = self._vectors @ np.asarray(vector, dtype=np.float32)
            close = np.flatnonzero(sims >= PARAPHRASE)
            if not len(close):
                return {}
            now = now or self.clock()
            per_user: dict[tuple[str, str], float] = defaultdict(float)
            for i in close:
                article, sign, user, when = self._rows[int(i)]
                age = max((now - when).total_seconds() / 86400.0, 0.0)
                weight = float(sims[i]) * 0.5 ** (age / HALF_LIFE_DAYS)
                per_user[(article, user)] += sign * weight
        per_article: dict[str, float] = defaultdict(float)
        people: dict[str, int] = defaultdict(int)
        for (article, _), votes in per_user.items():
            per_article[article] += max(-1.0, min(1.0, votes))  # one person: at most one vote per article
            people[article] += 1
        return {a: max(-CAP, min(CAP, v * STEP)) for a, v in per_article.items()
                if v and people[a] >= MIN_PEOPLE}


__all__ = ["CAP", "MIN_PEOPLE", "PARAPHRASE", "RatingFeedback"]
