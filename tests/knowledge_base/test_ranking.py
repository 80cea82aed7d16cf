"""Article ranking: an article is scored by its best chunk plus a share of its second-best one."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_base.index import SECOND_CHUNK_WEIGHT, ArticleInfo, ChunkInput, HybridIndex, article_score

DIM = 8
QUERY = np.eye(DIM, dtype=np.float32)[0]


def _vec(cosine: float, axis: int = 1) -> np.ndarray:
    """A unit vector at ``cosine`` to the query."""
    v = np.zeros(DIM, dtype=np.float32)
    v[0], v[axis] = cosine, np.sqrt(1 - cosine**2)
    return v


def _index(articles: dict[str, list[float]], weight: float = SECOND_CHUNK_WEIGHT) -> HybridIndex:
    index = HybridIndex(dim=DIM, capacity=16, second_weight=weight)
    for aid, cosines in articles.items():
        index.upsert(ArticleInfo(aid, aid, f"{aid}.md"),
                     [ChunkInput(f"part {i}", f"text {i}", [], _vec(c)) for i, c in enumerate(cosines)])
    return index


def test_an_article_answering_in_two_sections_outranks_one_lucky_passage():
    index = _index({"laptop-policy": [0.80, 0.75, 0.10], "lookalike": [0.84, 0.05]})
    hits = index.search([], QUERY, k=2)
    assert [h.info.id for h in hits] == ["laptop-policy", "lookalike"]
    assert hits[0].score == pytest.approx(article_score(0.7 * 0.80, 0.7 * 0.75))  # dense weight 0.7, no words
    assert hits[0].best.section == "part 0"  # the quoted passage is still the best chunk


def test_without_the_second_chunk_weight_the_best_chunk_alone_ranks():
    index = _index({"laptop-policy": [0.80, 0.75], "lookalike": [0.84]}, weight=0.0)
    assert [h.info.id for h in index.search([], QUERY, k=2)] == ["lookalike", "laptop-policy"]


def test_the_second_chunk_counts_even_when_many_other_rows_score_higher():
    # 80 single-chunk articles between the two chunks of "deep": its second chunk is far down the row
    # ranking (beyond the candidate rows read first), yet it must still lift "deep" above "rival".
    articles = {"deep": [0.70, 0.30], "rival": [0.72]}
    articles |= {f"filler-{i}": [0.35 + i * 0.001] for i in range(80)}
    hits = _index(articles).search([], QUERY, k=1)
    assert hits[0].info.id == "deep"


def test_a_single_chunk_article_keeps_its_score():
    assert article_score(0.5, 0.0) == 0.5
    assert article_score(0.5, -1.0) == 0.5  # a row the asker may not see never adds
