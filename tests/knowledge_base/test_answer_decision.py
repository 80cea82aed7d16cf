"""The decision to answer: the confidence against the threshold, lowered a little when the intent agrees."""

from __future__ import annotations

import pytest

from knowledge_base.index import ArticleHit, ArticleInfo, ChunkHit
from knowledge_base.search import INTENT_AGREEMENT_MARGIN, NEAR_MISS_MARGIN, SearchResult

HIT = ArticleHit(ArticleInfo("a", "A", "a.md"), 0.5, 0.4, 0.3, ChunkHit(0, None, "x", 0.4, 0.3))


@pytest.mark.parametrize(("below", "agrees", "answers"), [
    (0.0, False, True),                                 # at the threshold
    (0.01, False, False),                               # just below it
    (INTENT_AGREEMENT_MARGIN - 0.01, True, True),       # below, but the intent is the article's own
    (INTENT_AGREEMENT_MARGIN + 0.01, True, False),      # too far below even so
])
def test_the_bar_is_the_threshold_or_a_margin_below_it_when_the_intent_agrees(below, agrees, answers) -> None:
    result = SearchResult("q", [HIT], confidence=0.44 - below, threshold=0.44, intent_agrees=agrees)
    assert result.answerable is answers


def test_no_article_never_answers_whatever_the_intent() -> None:
    assert not SearchResult("q", [], confidence=0.9, threshold=0.44, intent_agrees=True).answerable


def _hit(article: str, confidence: float, feedback: float = 0.0) -> ArticleHit:
    return ArticleHit(ArticleInfo(article, article.upper(), f"{article}.md"), confidence, confidence, 0.1,
                      ChunkHit(0, None, "x", confidence, 0.1), feedback=feedback)


def test_a_declined_question_shows_only_the_articles_that_came_close() -> None:
    bar = 0.44
    near, nearer, far = _hit("near", bar - NEAR_MISS_MARGIN + 0.01), _hit("nearer", bar - 0.01), \
        _hit("far", bar - NEAR_MISS_MARGIN - 0.01)
    result = SearchResult("q", [nearer, near, far], confidence=nearer.dense, threshold=bar)
    assert not result.answerable
    assert [h.info.id for h in result.near_misses()] == ["nearer", "near"]
    assert [h.info.id for h in result.near_misses(k=1)] == ["nearer"]
    assert SearchResult("q", [far], confidence=far.dense, threshold=bar).near_misses() == []
    # an answer is no near miss, and an article employees rated "Not helpful" for such questions is not offered
    assert SearchResult("q", [_hit("ok", bar)], confidence=bar, threshold=bar).near_misses() == []
    demoted = _hit("demoted", bar - 0.01, feedback=-0.05)
    assert SearchResult("q", [demoted], confidence=demoted.dense, threshold=bar).near_misses() == []


def test_near_misses_are_measured_from_the_bar_the_answer_had_to_reach() -> None:
    bar = 0.44 - INTENT_AGREEMENT_MARGIN  # the intent agrees: the bar is lower, and so is the floor
    close = _hit("close", bar - NEAR_MISS_MARGIN + 0.01)
    result = SearchResult("q", [close], confidence=close.dense, threshold=0.44, intent_agrees=True)
    assert result.bar == pytest.approx(bar) and not result.answerable
    assert [h.info.id for h in result.near_misses()] == ["close"]
