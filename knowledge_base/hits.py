"""What the search index takes in (articles and their chunks) and gives back (ranked hits)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ArticleInfo:
    """What the index needs to know about an article besides its chunks."""

    id: str
    title: str
    path: str
    audience: tuple[str, ...] = ()
    review_by: str | None = None
    content_hash: str = ""


@dataclass
class ChunkInput:
    """One chunk to index: its text, terms and vector."""

    section: str | None
    text: str
    terms: list[str]
    vector: np.ndarray | None
    is_card: bool = False  # the title/alias card: matched, but never quoted


@dataclass
class ChunkHit:
    """One chunk in a ranking, with its dense and lexical scores."""

    row: int
    section: str | None
    text: str
    dense: float
    lexical: float
    is_card: bool = False


@dataclass
class ArticleHit:
    """One article in a ranking, with the best-matching chunk."""

    info: ArticleInfo
    score: float          # fused score used for ranking (0..1)
    dense: float          # best chunk cosine similarity
    lexical: float        # best chunk BM25, normalised by the query's ideal score (0..1)
    best: ChunkHit
    chunks: list[ChunkHit] = field(default_factory=list)
    feedback: float = 0.0  # how much employees' ratings of close paraphrases moved the score (already in it)
