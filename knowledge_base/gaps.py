"""`helpdesk kb gaps`: declined and thumbs-down questions grouped into topics — the trainers' to-do list."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable, Iterable, Sequence
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
MICRO_ABOVE = 3000  # more questions than this: gather near-duplicates first
MICRO_SIMILARITY = 0.85
BLOCK = 1024
SHOWN_CHARS = 160  # a listed question (or topic label) is cut here: a pasted log is not a question
# ``remit(texts, vectors)`` → per text, True when it is within the helpdesk's remit (the intent model's rule)
RemitRule = Callable[[Sequence[str], np.ndarray], Sequence[bool]]
DECLINED = "declined"


@dataclass(frozen=True)
class AnsweredQuestion:
    """One question the bot was asked and what it did, as the caller's records tell it (input to gap mining)."""

    question: str
    outcome: str                       # "declined" makes it a gap; other outcomes are ignored
    at: dt.datetime
    top_article_id: str | None = None  # the best article found, if any
    score: float | None = None         # its confidence
    asker: str | None = None           # who asked (the caller's pseudonymous key), to count different people


@dataclass
class GapQuestion:
    """A question the knowledge base did not answer well."""

    text: str
    kind: str  # "declined" | "unhelpful"
    at: dt.datetime
    article_id: str | None = None
    asker: str | None = None  # who asked or rated (a pseudonymous key); None when the caller did not say


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
            "topic": shorten(self.label),
            "count": self.count,
            "declined": sum(1 for q in self.questions if q.kind == "declined"),
            "unhelpful": sum(1 for q in self.questions if q.kind == "unhelpful"),
            "newest": self.newest.isoformat(timespec="seconds"),
            "examples": list(dict.fromkeys(shorten(q.text) for q in ordered))[:examples],
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
    out = [GapQuestion(q.question, "declined", q.at, q.top_article_id, q.asker) for q in asked
           if q.outcome == DECLINED and (since is None or q.at >= since)
           and q.question and not q.question.startswith("[")]
    rstmt = select(KbRating).where(KbRating.helpful.is_(False))
    if since is not None:
        rstmt = rstmt.where(KbRating.created_at >= since)
    out += [GapQuestion(r.question, "unhelpful", r.created_at, r.article_id, r.user_key)
            for r in session.scalars(rstmt) if r.question]
    return out


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    """A question as listed for trainers: whitespace collapsed, a long paste cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _micro_groups(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Near-duplicates gathered in one pass (each joins the first group whose centre is within ``threshold``)."""
    groups: list[list[int]] = []
    centres = np.zeros((0, vectors.shape[1]), dtype=np.float32)
    sums: list[np.ndarray] = []
    for i, v in enumerate(vectors):
        if len(groups):
            sims = centres @ v
            j = int(np.argmax(sims))
            if sims[j] >= threshold:
                groups[j].append(i)
                sums[j] = sums[j] + v
                centres[j] = sums[j] / (np.linalg.norm(sums[j]) or 1.0)
                continue
        groups.append([i])
        sums.append(v.astype(np.float32).copy())
        centres = np.vstack([centres, v[None, :].astype(np.float32)])
    return groups


def group(questions: list[GapQuestion], vectors: np.ndarray, threshold: float = SIMILARITY) -> list[list[int]]:
    """Average-link agglomerative grouping by cosine similarity (vectors are unit length).

    The average similarity of two groups is the dot product of their vector sums
    divided by the product of their sizes, so each merge costs one row of the
    group-by-group matrix and the whole run about n² (not the n³–n⁴ of comparing
    every pair of groups member by member). Past ``MICRO_ABOVE`` questions,
    near-duplicates (cosine ≥ ``MICRO_SIMILARITY``) are gathered first so the
    matrix stays small.
    """
    n = len(questions)
    if n < 2:
        return [[i] for i in range(n)]
    vecs = np.asarray(vectors, dtype=np.float32)
    start = _micro_groups(vecs, MICRO_SIMILARITY) if n > MICRO_ABOVE else [[i] for i in range(n)]
    members = [list(m) for m in start]
    sums = np.stack([vecs[m].sum(axis=0) for m in members]).astype(np.float64)
    counts = np.array([len(m) for m in members], dtype=np.float64)
    c = len(members)
    sim = np.empty((c, c), dtype=np.float64)
    for lo in range(0, c, BLOCK):  # in blocks: never a second n×n temporary
        sim[lo:lo + BLOCK] = (sums[lo:lo + BLOCK] @ sums.T) / np.outer(counts[lo:lo + BLOCK], counts)
    np.fill_diagonal(sim, -np.inf)
    alive = np.ones(c, dtype=bool)
    row_best = sim.max(axis=1)
    row_arg = sim.argmax(axis=1)
    while True:
        i = int(np.argmax(row_best))
        if row_best[i] < threshold:
            break
        a, b = sorted((i, int(row_arg[i])))
        members[a] += members[b]
        members[b] = []
        sums[a] += sums[b]
        counts[a] += counts[b]
        alive[b] = False
        sim[b, :] = -np.inf
        sim[:, b] = -np.inf
        row_best[b] = -np.inf
        fresh = (sums @ sums[a]) / (counts * counts[a])
        fresh[~alive] = -np.inf
        fresh[a] = -np.inf
        sim[a, :] = fresh
        sim[:, a] = fresh
        stale = np.flatnonzero(alive & ((row_arg == a) | (row_arg == b)))
        if len(stale):
            row_best[stale] = sim[stale].max(axis=1)
            row_arg[stale] = sim[stale].argmax(axis=1)
        better = alive & (fresh > row_best)
        row_best[better] = fresh[better]
        row_arg[better] = a
        row_best[a] = fresh.max()
        row_arg[a] = int(fresh.argmax())
    return [m for m in members if m]


def find_gaps(session: Session, asked: Iterable[AnsweredQuestion], encoder_provider: EncoderProvider, *,
              kb: KnowledgeBase | None = None, since: dt.datetime | None = None,
              threshold: float = SIMILARITY, remit: RemitRule | None = None) -> list[Gap]:
    """Topics, largest first (newest first among equals), each with its nearest existing article.

    ``asked``: the questions the bot was asked (the caller reads them from its own
    records); the declined ones and this module's unhelpful ratings are grouped.
    ``remit``: the caller's rule for "within the helpdesk's remit" (e.g. the intent
    model's out-of-scope class, :class:`intents.remit.RemitRule`); questions
    outside it (weather, flights, gibberish) are not gaps.
    """
    questions = collect(session, asked, since)
    if not questions:
        return []
    vectors = np.asarray(encoder_provider().encode([q.text for q in questions]), dtype=np.float32)
    if remit is not None:
        keep = [i for i, ok in enumerate(remit([q.text for q in questions], vectors)) if ok]
        questions, vectors = [questions[i] for i in keep], vectors[keep]
        if not questions:
            return []
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


def figure(gaps: list[Gap], top: int = 10) -> Any:
    """The bar chart of the largest gaps as a matplotlib figure (the caller saves and closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    shown = gaps[:top][::-1]
    fig, ax = plt.subplots(figsize=(10, 0.5 * max(len(shown), 1) + 2.2), layout="constrained")
    labels = [f"{i}. {shorten(g.label, 56)}" for i, g in zip(range(len(shown), 0, -1), shown, strict=True)]
    declined = [sum(1 for q in g.questions if q.kind == "declined") for g in shown]
    unhelpful = [sum(1 for q in g.questions if q.kind == "unhelpful") for g in shown]
    ax.barh(labels, declined, label="declined", color="#c0504d")
    ax.barh(labels, unhelpful, left=declined, label="rated not helpful", color="#f0a050")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("questions")
    # the title wraps to the figure's width and the legend sits under the axis, never over the bars
    fig.suptitle(textwrap.fill("Knowledge-base gaps: what employees asked that no article answers", 70))
    fig.legend(loc="outside lower center", ncol=2, frameon=False)
    return fig


def chart(gaps: list[Gap], path: Path, top: int = 10) -> Path:
    """A horizontal bar chart of the largest gaps (PNG)."""
    import matplotlib.pyplot as plt

    fig = figure(gaps, top)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
