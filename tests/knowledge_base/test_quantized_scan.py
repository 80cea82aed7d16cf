"""A large index scores vectors through a one-byte copy, and ranks exactly as with float32 scores."""

from __future__ import annotations

import logging
import os
import threading
import time

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


def _ranking(index: HybridIndex, terms: list[str], vector: np.ndarray,
             groups: frozenset[str] = frozenset()) -> list[tuple]:
    return [(h.info.id, round(h.score, 5), [(c.row, round(c.dense, 5)) for c in h.chunks])
            for h in index.search(terms, vector, groups=groups, k=5)]


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
    # a question unlike every section (most cosines below 0, so most fused scores tie at 0)
    away = -vecs.mean(axis=0) / np.linalg.norm(vecs.mean(axis=0))
    assert _ranking(fast, [], away) == _ranking(exact, [], away)


def test_articles_changed_after_packing_are_scored_exactly(pair, corpus) -> None:
    fast, exact = pair
    terms, vecs = corpus
    rng = np.random.default_rng(5)
    # new articles (past the packed rows and, with 40k rows, past the first capacity), edits and removals
    new_terms, new_vecs = _terms(15_000, rng), _vectors(15_000, rng)
    unique = -vecs.mean(axis=0)
    unique /= np.linalg.norm(unique)
    for index in (fast, exact):
        _fill(index, new_terms, new_vecs, prefix="new")
        for start in range(0, 500, PER_ARTICLE):
            index.remove(f"a{start}")
        # an article inside the packed rows gets a vector unlike anything in the index
        edited = [ChunkInput("s", "edited", ["edited"], unique)]
        index.upsert(ArticleInfo("a1000", "Edited", "a1000.md"), edited)
    assert fast.quantized
    for q_terms, q_vec in _questions(new_terms + terms, np.vstack([new_vecs, vecs]), 100, rng):
        assert _ranking(fast, q_terms, q_vec) == _ranking(exact, q_terms, q_vec)
    found = fast.search([], unique, k=3)
    assert found[0].info.id == "a1000" and found[0].dense == pytest.approx(1.0, abs=1e-5)
    assert all(not h.info.id.startswith("a") or int(h.info.id[1:]) >= 500 for h in found)
    # many changed rows: the next prepare re-packs, and the rankings still agree
    assert fast.unpacked_rows >= len(new_terms)
    fast.prepare()
    assert fast.quantized and fast.unpacked_rows == 0
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
            approx, bound = scan.scores(q)
            assert (np.abs(approx - vecs[:5_000] @ q) <= bound).all()
            assert bound.max() < 0.02 * scale  # tight enough that few rows need an exact score


def test_a_kernel_that_breaks_its_bound_is_not_used(corpus, monkeypatch, caplog) -> None:
    _, vecs = corpus
    honest = QuantizedScan.scores

    def off_by_a_little_more(self, query):
        approx, bound = honest(self, query)
        return approx + 1.5 * bound, bound

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


def test_near_duplicate_sections_are_ranked_by_their_exact_scores() -> None:
    # 600 articles whose sections are all within rounding distance of each other: the copy cannot tell
    # them apart, so the best five come from the exact scores of the rows the bounds leave in doubt
    rng = np.random.default_rng(9)
    filler_terms, filler = _terms(ROWS, rng), _vectors(ROWS, rng)
    centre = _vectors(2, rng)[0]
    near = centre + 1e-4 * rng.standard_normal((3_000, DIM)).astype(np.float32)
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    fast, exact = HybridIndex(), HybridIndex()
    for index in (fast, exact):
        _fill(index, filler_terms, filler)
        _fill(index, [["near"]] * len(near), near, prefix="near")
    fast.prepare()
    exact.prepare(quantized=False)
    scan = build_scan(np.vstack([filler, near]))
    assert scan is not None and fast.quantized
    for q in near[:20]:
        approx, _ = scan.scores(q)
        assert list(np.argsort(-approx[ROWS:])[:5]) != list(np.argsort(-(near @ q))[:5])  # the copy alone errs
        assert _ranking(fast, [], q) == _ranking(exact, [], q)


def test_duplicate_articles_rank_the_same_every_time(corpus) -> None:
    # equal vectors may differ in the last bit depending on how many rows a product covers, so between
    # the two paths duplicates may swap; each path is stable and the scores agree
    terms, vecs = corpus
    fast, exact = HybridIndex(), HybridIndex()
    for index in (fast, exact):
        _fill(index, terms, vecs)
        for copy in range(30):  # 30 articles identical to a0
            index.upsert(ArticleInfo(f"copy{copy}", "Copy", f"copy{copy}.md"),
                         [ChunkInput(f"s{i}", "", terms[i], vecs[i]) for i in range(PER_ARTICLE)])
    fast.prepare()
    exact.prepare(quantized=False)
    for q_terms in ([], terms[0][:2], ["absent"]):
        first = _ranking(fast, q_terms, vecs[0])
        assert first == _ranking(fast, q_terms, vecs[0])
        other = _ranking(exact, q_terms, vecs[0])
        assert [score for _, score, _ in first] == [score for _, score, _ in other]
        assert all(a == "a0" or a.startswith("copy") for a, _, _ in first + other)
    # scores equal to the bit (the words alone, or a vector that scores every section 0): the first indexed first
    for index in (fast, exact):
        for vector in (None, np.zeros(DIM, dtype=np.float32)):
            found = index.search(terms[0], vector, k=5)
            assert [h.info.id for h in found] == ["a0", "copy0", "copy1", "copy2", "copy3"]


def test_audience_restricted_articles_stay_hidden(corpus) -> None:
    terms, vecs = corpus
    fast, exact = HybridIndex(), HybridIndex()
    for index in (fast, exact):
        for start in range(0, ROWS, PER_ARTICLE):
            audience = ("finance",) if start % 10 == 0 else ()
            chunks = [ChunkInput(None, "", terms[i], vecs[i]) for i in range(start, start + PER_ARTICLE)]
            index.upsert(ArticleInfo(f"a{start}", "t", "p", audience), chunks)
    fast.prepare()
    exact.prepare(quantized=False)
    rng = np.random.default_rng(12)
    for q_terms, q_vec in _questions(terms, vecs, 40, rng):
        for groups in (frozenset(), frozenset({"finance"})):
            found = _ranking(fast, q_terms, q_vec, groups)
            assert found == _ranking(exact, q_terms, q_vec, groups)
            if not groups:
                assert all(int(a[1:]) % 10 for a, _, _ in found)
    # a finance article's own section: first for finance, absent for everyone else
    assert _ranking(fast, terms[10], vecs[10], frozenset({"finance"}))[0][0] == "a10"
    assert "a10" not in [a for a, _, _ in _ranking(fast, terms[10], vecs[10])]


def test_vectors_of_any_width_are_packed() -> None:
    rng = np.random.default_rng(6)
    for dim in (100, 300):
        vecs = rng.standard_normal((2_000, dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        scan = build_scan(vecs)
        assert scan is not None
        approx, bound = scan.scores(vecs[3])
        assert (np.abs(approx - vecs @ vecs[3]) <= bound).all() and int(np.argmax(approx)) == 3


def test_a_scan_failing_at_question_time_falls_back_to_float32(pair, corpus, monkeypatch, caplog) -> None:
    fast, exact = pair
    terms, vecs = corpus

    def failing(self, query):
        raise RuntimeError("onnxruntime: bad allocation")

    monkeypatch.setattr(QuantizedScan, "scores", failing)
    with caplog.at_level(logging.WARNING):
        assert _ranking(fast, terms[9][:3], vecs[9]) == _ranking(exact, terms[9][:3], vecs[9])
    assert "scoring in float32" in caplog.text and not fast.quantized


@pytest.mark.slow  # loads the sentence encoder
def test_the_live_index_packs_the_copy_after_a_sync(kb, monkeypatch) -> None:
    monkeypatch.setattr(quantized_scan, "MIN_ROWS", 1)  # the three sample articles count as large
    result = kb.search("how do I connect to the VPN from home")  # first use: import, sync, pack
    assert kb.index.quantized
    assert result.answerable and result.top.info.id == "network/vpn"


class HeldBuild:
    """build_scan, made to wait until released; counts its calls and records the thread's niceness."""

    def __init__(self, monkeypatch, *, outcome: str = "build") -> None:
        self.release = threading.Event()
        self.calls = 0
        self._called = threading.Condition()
        self.niceness: int | None = None
        self._real, self.outcome = quantized_scan.build_scan, outcome
        monkeypatch.setattr(quantized_scan, "build_scan", self)

    def __call__(self, vectors):
        self.niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        with self._called:
            self.calls += 1
            self._called.notify_all()
        assert self.release.wait(60), "the test never released the re-pack"
        if self.outcome == "crash":
            raise MemoryError("cannot allocate 150 MB")
        return None if self.outcome == "bound broken" else self._real(vectors)

    def reached(self, calls: int) -> bool:
        """Wait until the re-pack thread(s) have called build_scan ``calls`` times."""
        with self._called:
            return self._called.wait_for(lambda: self.calls >= calls, timeout=60)

    @staticmethod
    def finish() -> None:
        """Wait for every re-pack thread to end."""
        for thread in threading.enumerate():
            if thread.name == "kb-repack":
                thread.join(60)


def _changes(index: HybridIndex, terms, vecs, unique: np.ndarray, prefix: str) -> None:
    _fill(index, terms, vecs, prefix=prefix)
    index.upsert(ArticleInfo("a1000", "Edited", "a1000.md"), [ChunkInput("s", "edited", ["edited"], unique)])


def _searched_until_swapped(index: HybridIndex, terms, vector) -> None:
    """Ask questions (as a serving process does) until one of them swaps the finished re-pack in."""
    deadline = time.monotonic() + 60
    while index.packing:
        assert time.monotonic() < deadline, "the finished re-pack was never swapped in"
        index.search(terms, vector, k=1)
        time.sleep(0.01)


def test_a_re_pack_runs_in_the_background_while_the_old_copy_serves(pair, corpus, monkeypatch) -> None:
    fast, exact = pair
    rng = np.random.default_rng(6)
    unique = -corpus[1].mean(axis=0)
    unique /= np.linalg.norm(unique)
    first_terms, first_vecs = _terms(3_000, rng), _vectors(3_000, rng)
    for index in (fast, exact):
        _fill(index, first_terms, first_vecs, prefix="first")
    build = HeldBuild(monkeypatch)
    fast.prepare(background=True)  # returns at once: the re-pack waits in its thread
    assert fast.packing and fast.quantized and fast.unpacked_rows >= 3_000
    # while it packs: articles added and one edited inside the packed rows, all ranked exactly
    late_terms, late_vecs = _terms(50, rng), _vectors(50, rng)
    for index in (fast, exact):
        _changes(index, late_terms, late_vecs, unique, prefix="late")
    fast.prepare(background=True)  # another sync: one re-pack at a time (checked below, once all are done)
    for q_terms, q_vec in _questions(first_terms + late_terms, np.vstack([first_vecs, late_vecs]), 30, rng):
        assert _ranking(fast, q_terms, q_vec) == _ranking(exact, q_terms, q_vec)
    build.release.set()
    _searched_until_swapped(fast, late_terms[0], late_vecs[0])
    assert build.calls == 1
    # the packing thread gave way to the questions asked meanwhile
    assert build.niceness is not None and build.niceness > os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    # the new copy serves; only the rows written after its snapshot are still scored exactly
    assert fast.quantized and fast.unpacked_rows == 51
    for q_terms, q_vec in _questions(first_terms + late_terms, np.vstack([first_vecs, late_vecs]), 50, rng):
        assert _ranking(fast, q_terms, q_vec) == _ranking(exact, q_terms, q_vec)
    found = fast.search([], unique, k=1)[0]
    assert found.info.id == "a1000" and found.dense == pytest.approx(1.0, abs=1e-5)


def _more_articles(pair, seed: int) -> tuple[list[list[str]], np.ndarray]:
    """3,000 new sections in both indexes of ``pair``: more than a re-pack waits for."""
    rng = np.random.default_rng(seed)
    terms, vecs = _terms(3_000, rng), _vectors(3_000, rng)
    for index in pair:
        _fill(index, terms, vecs, prefix=f"more{seed}-")
    return terms, vecs


def test_a_copy_that_breaks_its_bound_leaves_float32_scoring(pair, monkeypatch) -> None:
    fast, exact = pair
    more_terms, more_vecs = _more_articles(pair, 8)
    build = HeldBuild(monkeypatch, outcome="bound broken")
    fast.prepare(background=True)
    build.release.set()
    _searched_until_swapped(fast, more_terms[0], more_vecs[0])
    assert not fast.quantized
    for index in (fast, exact):
        _fill(index, more_terms[:5], more_vecs[:5], prefix="again")
    fast.prepare(background=True)  # not tried again on every update
    assert build.calls == 1 and not fast.packing
    for q_terms, q_vec in _questions(more_terms, more_vecs, 20, np.random.default_rng(9)):
        assert _ranking(fast, q_terms, q_vec) == _ranking(exact, q_terms, q_vec)


def test_after_a_scan_failure_the_re_pack_runs_in_the_background(pair, monkeypatch, caplog) -> None:
    fast, exact = pair
    real_scores = QuantizedScan.scores

    def failing(self, query):
        raise RuntimeError("onnxruntime: bad allocation")

    monkeypatch.setattr(QuantizedScan, "scores", failing)
    more_terms, more_vecs = _more_articles(pair, 14)
    with caplog.at_level(logging.WARNING):
        fast.search(more_terms[0], more_vecs[0], k=1)
    assert "scoring in float32" in caplog.text and not fast.quantized
    monkeypatch.setattr(QuantizedScan, "scores", real_scores)
    build = HeldBuild(monkeypatch)
    fast.prepare(background=True)  # the next sync: returns at once, float32 serves while the copy is re-packed
    assert build.reached(1) and fast.packing and not fast.quantized
    for q_terms, q_vec in _questions(more_terms, more_vecs, 10, np.random.default_rng(15)):
        assert _ranking(fast, q_terms, q_vec) == _ranking(exact, q_terms, q_vec)
    build.release.set()
    _searched_until_swapped(fast, more_terms[0], more_vecs[0])
    assert fast.quantized and build.calls == 1
    for q_terms, q_vec in _questions(more_terms, more_vecs, 20, np.random.default_rng(16)):
        assert _ranking(fast, q_terms, q_vec) == _ranking(exact, q_terms, q_vec)


def test_a_re_pack_that_crashes_keeps_the_old_copy_and_tries_again(pair, monkeypatch, caplog) -> None:
    fast, exact = pair
    more_terms, more_vecs = _more_articles(pair, 12)
    build = HeldBuild(monkeypatch, outcome="crash")
    with caplog.at_level(logging.WARNING):
        fast.prepare(background=True)
        build.release.set()
        _searched_until_swapped(fast, more_terms[0], more_vecs[0])
    assert "the old copy keeps serving" in caplog.text
    assert fast.quantized and fast.unpacked_rows >= 3_000  # the written rows are still scored exactly
    for q_terms, q_vec in _questions(more_terms, more_vecs, 20, np.random.default_rng(13)):
        assert _ranking(fast, q_terms, q_vec) == _ranking(exact, q_terms, q_vec)
    build.release.clear()
    build.outcome = "build"
    fast.prepare(background=True)  # the next sync tries again
    assert build.reached(2) and fast.packing
    fast.prepare(quantized=False)  # asked for float32 meanwhile: the pack under way is not swapped in
    assert not fast.packing and not fast.quantized
    build.release.set()
    build.finish()
    fast.search(more_terms[0], more_vecs[0], k=1)
    assert not fast.quantized


@pytest.mark.slow  # loads the sentence encoder
def test_the_live_index_re_packs_in_the_background_and_keeps_answering(kb, articles, monkeypatch) -> None:
    monkeypatch.setattr(quantized_scan, "MIN_ROWS", 1)
    assert kb.search("how do I connect to the VPN from home").answerable  # first use: packed in the sync
    monkeypatch.setattr(quantized_scan, "STALE_LIMIT", 0)  # every change now calls for a re-pack
    build = HeldBuild(monkeypatch)
    (articles / "help" / "keyboard.md").write_text(
        "# Keyboard layouts\n\nTo switch your keyboard layout to German, open Settings, then Time & language, "
        "then Language, and add German (Germany) as a keyboard.\n", encoding="utf-8")
    kb.import_dir(articles)
    kb.sync()
    # the sync returned while the re-pack waits: the old copy and exact scores for the new article serve
    assert kb.index.packing
    assert kb.search("how do I connect to the VPN from home").top.info.id == "network/vpn"
    assert kb.search("switch my keyboard to a german layout").top.info.id == "help/keyboard"
    build.release.set()
    assert kb.index.finish_packing(timeout=60) and kb.index.quantized and not kb.index.packing
    assert kb.search("switch my keyboard to a german layout").top.info.id == "help/keyboard"
