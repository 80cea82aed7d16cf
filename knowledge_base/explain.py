"""Why the knowledge base ranked and decided as it did: the scores behind a :class:`SearchResult`.

For trainers ("Try it"): each ranked article's lexical (BM25, normalised) and dense
(cosine) score, the fused ranking score, the ratings' share of it, and the decision
against the answer threshold — the very numbers :mod:`knowledge_base.search` used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge_base.search import SearchResult, confidence_of


@dataclass(frozen=True)
class RankedArticle:
    """One article in the ranking and its scores (all 0..1 except ``feedback``, which is ±)."""

    rank: int
    article_id: str
    title: str
    section: str | None  # the best-matching section (None: the title/aliases/tags card matched best)
    lexical: float
    dense: float
    fused: float        # the ranking score, ratings included
    feedback: float     # how much ratings of close paraphrases moved it
    confidence: float   # what is compared with the threshold (for the top article)
    curated: bool = False


@dataclass(frozen=True)
class SearchExplanation:
    """The ranking, the threshold and the decision for one question."""

    question: str
    ranked: list[RankedArticle] = field(default_factory=list)
    confidence: float = 0.0
    threshold: float = 0.0
    answerable: bool = False
    curated_article: str | None = None
    curated_answer: str | None = None
    intent_agrees: bool = False

    @property
    def decision(self) -> str:
        """In words: answer, answer (curated), or decline."""
        if self.curated_answer is not None:
            return "answer with a curated answer"
        if self.answerable:
            if self.curated_article:
                return "answer (curated article)"
            if self.intent_agrees and self.confidence < self.threshold:
                return "answer (below the threshold, but the message's confident intent is the article's own)"
            return "answer"
        return "decline (below the threshold)" if self.ranked else "decline (no article matched)"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"question": self.question, "confidence": self.confidence, "threshold": self.threshold,
                "answerable": self.answerable, "decision": self.decision, "intent_agrees": self.intent_agrees,
                "curated_article": self.curated_article, "curated_answer": self.curated_answer,
                "ranked": [r.__dict__ for r in self.ranked]}


def explain(result: SearchResult) -> SearchExplanation:
    """The scores behind ``result``, rounded for people (4 places)."""
    curated = result.curated
    curated_id = curated.article_id if curated is not None else None
    ranked = [RankedArticle(rank=i, article_id=h.info.id, title=h.info.title,
                            section=None if h.best.is_card else h.best.section,
                            lexical=round(h.lexical, 4), dense=round(h.dense, 4), fused=round(h.score, 4),
                            feedback=round(h.feedback, 4), confidence=round(confidence_of(h), 4),
                            curated=h.info.id == curated_id)
              for i, h in enumerate(result.hits, start=1)]
    return SearchExplanation(question=result.question, ranked=ranked, confidence=round(result.confidence, 4),
                             threshold=result.threshold, answerable=result.answerable, curated_article=curated_id,
                             curated_answer=curated.answer if curated is not None else None,
                             intent_agrees=result.intent_agrees)


__all__ = ["RankedArticle", "SearchExplanation", "explain"]
