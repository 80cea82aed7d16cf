"""A large index scores vectors through a one-byte copy, and ranks exactly as with float32 scores."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from knowledge_base import quantized_scan
from knowledge_base.index import ArticleInfo, ChunkInput, HybridIndex
from knowledge_base.quantized_scan import QuantizedScan, build_scan

DIM = 384
ROWS = quantized_scan.MIN_ROWS + 5_000
PER_ARTICLE = 5


def _vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    # embeddings share a common direction (as sentence embeddings do), and come in near-duplicate pairs
    # so that the one-byte copy's rounding alone could reorder neighbours
    base = rng.standard_normal((n // 2, DIM)).astype(np.float32) + 1.5 * rng.standard_normal(DIM).astype(np.float32)
    twins = base + 0.002 * rng.standard_normal(base.shape).astype(np.float32)
    vecs = np.empty((n, DIM), dtype=np.float32)
    vecs[0::2], vecs[1::2] = base, twins
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def _terms(n: int, rng: np.random.Generator) -> list[list[str]]:
    return [[f"w{t}" for t in rng.zipf(1.4, 20) % 2000] for _ in range(n)]


def _fill(index: HybridIndex, terms: list[list[str]], vecs: np.ndarray, prefix: str = "a") -> None:
    for start in range(0, len(terms), PER_ARTICLE):
        chunks = [ChunkInput(f"s{i}", f"text {i}", terms[i], vecs[i]) for i in range(start, start + PER_ARTICLE)]
        index.upsert(ArticleInfo(f"{prefix}{start}", f"Article {start}", f"{prefix}{start}.md"), chunks)


def _ranking(index: HybridIndex, terms: list[str], vector: np.ndarray) -> list[tuple]:
    return [(h.info.id, round(h.score, 5), [(c.row, round(c.dense, 5)) for c in h.chunks])
            for h in index.search(terms, vector, k=5)]


def _questions(terms: list[list[str]], vecs: np.ndarray, n: int, rng: np.random.Generator):
    for _ in range(n):
        i = int(rng.integers(len(terms)))
        noise = rng.uniform(0.0, 0.1) * rng.standard_normal(DIM).astype(np.float32)
        yield list(rng.choice(terms[i], 3)), ((vecs[i] + noise) / np.linalg.norm(vecs[i] + noise)).astype(np.float32)


@pytest.fixture(scope="module")
def corpus():
    rng = np.random.default_rng(3)
    return _terms(ROWS, rng), _vectors(ROWS, rng)


@pytest.fixture()
def pair(corpus):
    """The same articles in an index using the one-byte copy and in one scoring every row in float32."""
    terms, vecs = corpus
    fast, exact = HybridIndex(), HybridIndex()
    _fill(fast, terms, vecs)
    _fill(exact, terms, vecs)
    fast.prepare()
    exact.prepare(quantized=False)
    assert fast.quantized and not exact.quantized
    return fast, exact


def test_a_large_index_ranks_exactly_as_with_float32_scores(pair, corpus) -> None:
    fast, exact = pair
    terms, vecs = corpus
    rng = np.random.default_rng(11)
    scan = build_scan(vecs)
    assert scan is not None
    reordered = 0
    for q_terms, q_vec in _questions(terms, vecs, 150, rng):
        assert _ranking(fast, q_terms, q_vec) == _ranking(exact, q_terms, q_vec)
        approx, _ = scan.scores(q_vec)
        reordered += list(np.argsort(-approx)[:10]) != list(np.argsort(-(vecs @ q_vec))[:10])
    # the copy's own order differs from the exact one for many questions: the equality above is earned
    assert reordered > 10


def test_articles_changed_after_packing_are_scored_exactly(pair, corpus) -> None:
    fast, exact = pair
    terms, vecs = corpus
    rng = np.random.default_rng(5)
    # new articles (past the packed rows and, with 40k rows, past the first capacity), edits and removals
    new_terms, new_vecs = _terms(15_000, rng), _vectors(15_000, rng)
    for index in (fast, exact):
        _fill(index, new_terms, new_vecs, prefix="new")
        for start in range(0, 500, PER_ARTICLE):
            index.remove(f"a{start}")
        edited = [ChunkInput("s", "edited", ["edited"], new_vecs[7])]
        index.upsert(ArticleInfo("a1000", "Edited", "a1000.md"), edited)
    assert fast.quantized
    for q_terms, q_vec in _questions(new_terms + terms, np.vstack([new_vecs, vecs]), 100, rng):
        assert _ranking(fast, q_terms, q_vec) == _ranking(exact, q_terms, q_vec)
    found = fast.search(["edited"], new_vecs[7], k=3)
    assert found[0].info.id in {"a1000"} | {f"new{(7 // PER_ARTICLE) * PER_ARTICLE}"}
    assert all(not h.info.id.startswith("a") or int(h.info.id[1:]) >= 500 for h in found)
    # many changed rows: the next prepare re-packs, and the rankings still agree
    fast.prepare()
    for q_terms, q_vec in _questions(new_terms, new_vecs, 50, rng):
        assert _ranking(fast, q_terms, q_vec) == _ranking(exact, q_terms, q_vec)


def test_the_error_bound_holds_for_any_question(corpus) -> None:
    _, vecs = corpus
    scan = QuantizedScan(vecs[:5_000])
    rng = np.random.default_rng(8)
    for scale in (1.0, 0.3, 2.0):  # unit and non-unit questions
        for _ in range(40):
            q = rng.standard_normal(DIM).astype(np.float32) * rng.uniform(0.1, 3.0, DIM).astype(np.float32)
            q = scale * q / np.linalg.norm(q)
            approx, margin = scan.scores(q)
            assert np.abs(approx - vecs[:5_000] @ q).max() <= margin
            assert margin < 0.05 * scale  # tight enough that few rows need an exact score


def test_a_kernel_that_breaks_its_bound_is_not_used(corpus, monkeypatch, caplog) -> None:
    _, vecs = corpus
    honest = QuantizedScan.scores

    def off_by_a_little_more(self, query):
        approx, margin = honest(self, query)
        return approx + 1.5 * margin, margin

    monkeypatch.setattr(QuantizedScan, "scores", off_by_a_little_more)
    with caplog.at_level(logging.WARNING):
        assert build_scan(vecs[:1_000]) is None
    assert "off by more than its bound" in caplog.text


def test_a_runtime_without_the_kernel_scores_in_float32(corpus, monkeypatch, caplog) -> None:
    terms, vecs = corpus

    def unavailable(self, vectors):
        raise RuntimeError("Could not find an implementation for MatMulNBits(1) node")

    monkeypatch.setattr(QuantizedScan, "__init__", unavailable)
    index = HybridIndex()
    _fill(index, terms, vecs)
    with caplog.at_level(logging.WARNING):
        index.prepare()
        index.prepare()  # not tried again on every update
    assert not index.quantized
    assert caplog.text.count("scoring in float32") == 1
    assert index.search(terms[42][:3], vecs[42], k=1)[0].info.id == f"a{42 // PER_ARTICLE * PER_ARTICLE}"


def test_a_small_index_keeps_scoring_in_float32() -> None:
    rng = np.random.default_rng(2)
    index = HybridIndex()
    _fill(index, _terms(1_000, rng), _vectors(1_000, rng))
    index.prepare()
    assert not index.quantized


def test_a_chunk_without_a_vector_does_not_inherit_the_last_owners() -> None:
    rng = np.random.default_rng(4)
    vecs = _vectors(2, rng)
    index = HybridIndex(capacity=4)
    index.upsert(ArticleInfo("old", "Old", "old.md"), [ChunkInput("s", "old", ["old"], vecs[0])])
    index.remove("old")
    index.upsert(ArticleInfo("new", "New", "new.md"), [ChunkInput("s", "new", ["new"], None)])
    hit = index.search(["unrelated"], vecs[0], k=1)[0]
    assert hit.info.id == "new" and hit.dense == 0.0
