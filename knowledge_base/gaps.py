"""`helpdesk kb gaps`: declined and thumbs-down questions grouped into topics — the trainers' to-do list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.encoding import EncoderProvider
from knowledge_base.models import KbRating

if TYPE_CHECKING:
    from knowledge_base.service import KnowledgeBase

SIMILARITY = 0.5  # questions at least this similar (cosine) share a topic
DECLINED = "declined"


@dataclass(frozen=True)
class AnsweredQuestion:
    """One question the bot was asked and what it did, as the caller's records tell it (input to gap mining)."""

    question: str
    outcome: str                       # "declined" makes it a gap; other outcomes are ignored
    at: dt.datetime
    top_article_id: str | None = None  # the best article found, if any
    score: float | None = None         # its confidence


@dataclass
class GapQuestion:
    """A question the knowledge base did not answer well."""

    text: str
    kind: str  # "declined" | "unhelpful"
    at: dt.datetime
    article_id: str | None = None


@dataclass
class Gap:
    """One topic employees asked about that the knowledge base does not answer well."""

    label: str
    questions: list[GapQuestion] = field(default_factory=list)
    nearest_article: str | None = None
    nearest_title: str | None = None
    nearest_score: float | None = None

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def newest(self) -> dt.datetime:
        return max(q.at for q in self.questions)

    def to_dict(self, examples: int = 3) -> dict[str, Any]:
        ordered = sorted(self.questions, key=lambda q: q.at, reverse=True)
        return {
            "topic": self.label,
            "count": self.count,
            "declined": sum(1 for q in self.questions if q.kind == "declined"),
            "unhelpful": sum(1 for q in self.questions if q.kind == "unhelpful"),
            "newest": self.newest.isoformat(timespec="seconds"),
            "examples": list(dict.fromkeys(q.text for q in ordered))[:examples],
            "nearest_article": self.nearest_article,
            "nearest_title": self.nearest_title,
            "nearest_score": self.nearest_score,
        }


def days_ago(days: int, now: dt.datetime | None = None) -> dt.datetime:
    """The (naive UTC) moment ``days`` days before ``now``: where a gap report starts."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now - dt.timedelta(days=days)


def collect(session: Session, asked: Iterable[AnsweredQuestion],
            since: dt.datetime | None = None) -> list[GapQuestion]:
    """Declined questions among ``asked`` and unhelpful ratings (this module's table), since ``since``."""
    out = [GapQuestion(q.question, "declined", q.at, q.top_article_id) for q in asked
           if q.outcome == DECLINED and (since is None or q.at >= since)
           and q.question and not q.question.startswith("[")]
    rstmt = select(KbRating).where(KbRating.helpful.is_(False))
    if since is not None:
        rstmt = rstmt.where(KbRating.created_at >= since)
    out += [GapQuestion(r.question, "unhelpful", r.created_at, r.article_id) for r in session.scalars(rstmt)
            if r.question]
    return out


def group(questions: list[GapQuestion], vectors: np.ndarray, threshold: float = SIMILARITY) -> list[list[int]]:
    """Average-link agglomerative grouping by cosine similarity (vectors are unit length)."""
    clusters: list[list[int]] = [[i] for i in range(len(questions))]
    if len(questions) < 2:
        return clusters
    sims = vectors @ vectors.T
    while True:
        best, pair = threshold, None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                s = float(sims[np.ix_(clusters[a], clusters[b])].mean())
                if s >= best:
                    best, pair = s, (a, b)
        if pair is None:
            return clusters
        a, b = pair
        clusters[a] += clusters.pop(b)


def find_gaps(session: Session, asked: Iterable[AnsweredQuestion], encoder_provider: EncoderProvider, *,
              kb: KnowledgeBase | None = None, since: dt.datetime | None = None,
              threshold: float = SIMILARITY) -> list[Gap]:
    """Topics, largest first (newest first among equals), each with its nearest existing article.

    ``asked``: the questions the bot was asked (the caller reads them from its own
    records); the declined ones and this module's unhelpful ratings are grouped.
    """
    questions = collect(session, asked, since)
    if not questions:
        return []
    vectors = np.asarray(encoder_provider().encode([q.text for q in questions]), dtype=np.float32)
    gaps = []
    for members in group(questions, vectors, threshold):
        qs = [questions[i] for i in members]
        centre = vectors[members].mean(axis=0)
        # the label: the member closest to the topic's centre
        label = qs[int(np.argmax(vectors[members] @ centre))].text
        gap = Gap(label=label, questions=qs)
        if kb is not None:
            norm = centre / (np.linalg.norm(centre) or 1.0)
            res = kb.search(label, norm, groups=frozenset({"*"}) | kb.audiences(), k=1)
            if res.top is not None:
                gap.nearest_article, gap.nearest_title = res.top.info.id, res.top.info.title
                gap.nearest_score = round(res.confidence, 3)
        gaps.append(gap)
    return sorted(gaps, key=lambda g: (-g.count, -g.newest.timestamp()))


def chart(gaps: list[Gap], path: Path, top: int = 10) -> Path:
    """A horizontal bar chart of the largest gaps (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = gaps[:top][::-1]
    fig, ax = plt.subplots(figsize=(9, 0.5 * max(len(shown), 1) + 1.5))
    labels = [g.label if len(g.label) <= 60 else g.label[:57] + "…" for g in shown]
    declined = [sum(1 for q in g.questions if q.kind == "declined") for g in shown]
    unhelpful = [sum(1 for q in g.questions if q.kind == "unhelpful") for g in shown]
    ax.barh(labels, declined, label="declined", color="#c0504d")
    ax.barh(labels, unhelpful, left=declined, label="rated not helpful", color="#f0a050")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("questions")
    ax.set_title("Knowledge-base gaps: what employees asked that no article answers")
    ax.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
