"""The in-memory hybrid index: BM25 over an inverted index + dense cosine, per-article updates.

Rows are chunks. Adding or removing one article touches only its rows and the
postings of its terms, so an edit in a 10,000-article base costs about as
much as indexing that one article.
"""

from __future__ import annotations

import logging
import math
from collections import Counter

import numpy as np

from knowledge_base import quantized_scan
from knowledge_base.hits import ArticleHit, ArticleInfo, ChunkHit, ChunkInput
from knowledge_base.quantized_scan import BackgroundPack, QuantizedScan

K1 = 1.2
B = 0.75
WARM_POSTINGS = 512  # prepare() builds the posting arrays of terms in at least this many rows

log = logging.getLogger(__name__)


def _best_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """Indexes of the ``n`` best scores, best first; equal scores go to the lower index (a ranking repeats).

    The two scoring paths may still order articles with equal or all-but-equal scores differently: a product over
    some rows can differ in the last bit from the one over all rows.
    """
    cut = np.partition(scores, len(scores) - n)[len(scores) - n]
    pick = np.flatnonzero(scores >= cut)
    return pick[np.lexsort((pick, -scores[pick]))][:n]


class HybridIndex:
    """BM25 + dense retrieval over chunks, aggregated to articles."""

    def __init__(self, dim: int = 384, capacity: int = 1024, dense_weight: float = 0.7) -> None:
        self.dim = dim
        self.dense_weight = dense_weight
        self.vectors = np.zeros((capacity, dim), dtype=np.float32)
        self.alive = np.zeros(capacity, dtype=bool)
        self.doc_len = np.zeros(capacity, dtype=np.float32)
        self.row_article = np.full(capacity, -1, dtype=np.int64)
        self.row_card = np.zeros(capacity, dtype=bool)
        self.row_section: list[str | None] = [None] * capacity
        self.row_text: list[str] = [""] * capacity
        self.row_terms: list[Counter[str] | None] = [None] * capacity
        self.free: list[int] = list(range(capacity - 1, -1, -1))
        self.articles: dict[str, ArticleInfo] = {}
        self.article_slot: dict[str, int] = {}
        self.slot_article: list[str | None] = []
        self.article_rows: dict[str, list[int]] = {}
        self.postings: dict[str, dict[int, int]] = {}
        self._post_arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.total_len = 0.0
        self.n_rows = 0
        self._masks: dict[frozenset[str], np.ndarray] = {}
        self._scan: QuantizedScan | None = None  # see prepare()
        self._scan_failed = False
        self._stale: set[int] = set()  # rows written since the scan was packed: scored exactly
        self._packing: BackgroundPack | None = None  # a re-pack under way in the background
        self._scan_lost = False  # the copy failed at question time: its re-pack may run in the background too

    # --- updates --------------------------------------------------------------
    def __len__(self) -> int:
        return self.n_rows

    def __contains__(self, article_id: str) -> bool:
        return article_id in self.articles

    def _grow(self) -> None:
        old = len(self.alive)
        new = old * 2
        self.vectors = np.vstack([self.vectors, np.zeros((old, self.dim), dtype=np.float32)])
        self.alive = np.concatenate([self.alive, np.zeros(old, dtype=bool)])
        self.doc_len = np.concatenate([self.doc_len, np.zeros(old, dtype=np.float32)])
        self.row_article = np.concatenate([self.row_article, np.full(old, -1, dtype=np.int64)])
        self.row_card = np.concatenate([self.row_card, np.zeros(old, dtype=bool)])
        self.row_section += [None] * old
        self.row_text += [""] * old
        self.row_terms += [None] * old
        self.free = list(range(new - 1, old - 1, -1)) + self.free
        self._masks.clear()

    def upsert(self, info: ArticleInfo, chunks: list[ChunkInput]) -> None:
        """Index (or re-index) one article's chunks."""
        self.remove(info.id)
        slot = self.article_slot.get(info.id)
        if slot is None:
            slot = len(self.slot_article)
            self.slot_article.append(info.id)
            self.article_slot[info.id] = slot
        else:
            self.slot_article[slot] = info.id
        self.articles[info.id] = info
        rows = []
        for chunk in chunks:
            if not self.free:
                self._grow()
            row = self.free.pop()
            rows.append(row)
            tf = Counter(chunk.terms)
            self.row_terms[row] = tf
            for term, count in tf.items():
                self.postings.setdefault(term, {})[row] = count
                self._post_arrays.pop(term, None)
            self.doc_len[row] = len(chunk.terms)
            self.total_len += len(chunk.terms)
            # a chunk without a vector must not keep the last owner's row
            self.vectors[row] = chunk.vector if chunk.vector is not None else 0.0
            if self._scan is not None:
                self._stale.add(row)
            if self._packing is not None:
                self._packing.written.add(row)
            self.alive[row] = True
            self.row_article[row] = slot
            self.row_section[row] = chunk.section
            self.row_card[row] = chunk.is_card
            self.row_text[row] = chunk.text
            self.n_rows += 1
        self.article_rows[info.id] = rows
        self._masks.clear()

    def remove(self, article_id: str) -> None:
        """Drop an article's chunks (no-op if absent)."""
        rows = self.article_rows.pop(article_id, None)
        self.articles.pop(article_id, None)
        if not rows:
            return
        for row in rows:
            tf = self.row_terms[row] or Counter()
            for term in tf:
                posting = self.postings.get(term)
                if posting is not None:
                    posting.pop(row, None)
                    if not posting:
                        del self.postings[term]
                self._post_arrays.pop(term, None)
            self.total_len -= float(self.doc_len[row])
            self.alive[row] = False
            self.row_terms[row] = None
            self.row_text[row] = ""
            self.doc_len[row] = 0
            self.free.append(row)
            self.n_rows -= 1
        self._masks.clear()

    def prepare(self, *, quantized: bool = True, background: bool = False) -> None:
        """Ready the index for fast searches after a batch of updates (else the first questions pay for it).

        Builds the posting arrays of common terms the updates touched (the slow ones to build), and packs
        the one-byte copy of a large index's vectors (again, once many rows changed since: rows written
        since the last packing are scored exactly). An index too small to gain from the copy keeps scoring
        in float32, and so does one prepared with ``quantized=False`` (the benchmark's comparison).

        ``background``: a re-pack (not the first packing) runs in a thread, from a snapshot of the vectors,
        while the old copy (float32, when the copy failed at question time) keeps serving; the first
        search or prepare after it finishes swaps it in, and
        the rows written meanwhile stay scored exactly. A serving process's sync must not stall a turn.
        """
        self._install_packed()
        for term, posting in self.postings.items():
            if len(posting) >= WARM_POSTINGS:
                self._posting(term)
        if not quantized or self.n_rows < quantized_scan.MIN_ROWS or self._scan_failed:
            self._scan, self._packing = None, None
            self._stale.clear()
            return
        if self._scan is not None and len(self._stale) <= quantized_scan.STALE_LIMIT:
            return
        if self._packing is not None:
            return  # one re-pack at a time: this one is swapped in when done
        top = int(np.flatnonzero(self.alive).max()) + 1
        if background and (self._scan is not None or self._scan_lost):
            self._packing = BackgroundPack.start(self.vectors[:top])
            return
        self._scan = quantized_scan.build_scan(self.vectors[:top])
        self._scan_failed, self._scan_lost = self._scan is None, False
        self._stale.clear()

    def finish_packing(self, timeout: float | None = None) -> bool:
        """Wait for a background re-pack and swap it in; False if it is still running after ``timeout`` s."""
        packing = self._packing
        if packing is not None and not packing.done.wait(timeout):
            return False
        self._install_packed()
        return True

    def _install_packed(self) -> None:
        packing = self._packing
        if packing is None or not packing.done.is_set():
            return
        self._packing = None
        if packing.crashed:
            return  # the old copy and its exactly-scored rows go on; the next prepare tries again
        self._scan = packing.scan
        self._scan_failed, self._scan_lost = packing.scan is None, False
        # rows written after the snapshot are not (rightly) in the new copy: they are still scored exactly
        self._stale = packing.written if packing.scan is not None else set()

    @property
    def quantized(self) -> bool:
        """Whether searches score vectors through the one-byte copy (see :meth:`prepare`)."""
        return self._scan is not None

    @property
    def unpacked_rows(self) -> int:
        """Rows written since the one-byte copy was packed: scored exactly on every question until a re-pack."""
        return len(self._stale)

    @property
    def packing(self) -> bool:
        """Whether a re-pack is under way in the background (see :meth:`prepare`)."""
        return self._packing is not None

    # --- search ---------------------------------------------------------------
    def _allowed(self, groups: frozenset[str]) -> np.ndarray:
        mask = self._masks.get(groups)
        if mask is None:
            ok_slots = np.zeros(max(len(self.slot_article), 1), dtype=bool)
            for aid, info in self.articles.items():
                if not info.audience or groups.intersection(info.audience):
                    ok_slots[self.article_slot[aid]] = True
            mask = self.alive & (self.row_article >= 0)
            mask &= ok_slots[np.clip(self.row_article, 0, None)]
            self._masks[groups] = mask
        return mask

    def _posting(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        arr = self._post_arrays.get(term)
        if arr is None:
            posting = self.postings.get(term, {})
            arr = (np.fromiter(posting.keys(), dtype=np.int64, count=len(posting)),
                   np.fromiter(posting.values(), dtype=np.float32, count=len(posting)))
            self._post_arrays[term] = arr
        return arr

    def idf(self, term: str) -> float:
        n = max(self.n_rows, 1)
        df = len(self.postings.get(term, ()))
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def bm25(self, terms: list[str]) -> tuple[np.ndarray, float]:
        """BM25 per row, and the query's ideal score (for normalisation to 0..1)."""
        scores = np.zeros(len(self.alive), dtype=np.float32)
        avg = self.total_len / max(self.n_rows, 1) or 1.0
        ideal = 0.0
        for term in Counter(terms):
            idf = self.idf(term)
            ideal += idf * (K1 + 1) * 0.75
            rows, tf = self._posting(term)
            if len(rows) == 0:
                continue
            norm = tf + K1 * (1 - B + B * self.doc_len[rows] / avg)
            scores[rows] += idf * tf * (K1 + 1) / norm
        return scores, ideal

    def _fuse(self, dense: np.ndarray, lex_norm: np.ndarray) -> np.ndarray:
        """The ranking score: the dense and lexical halves weighted (negative cosines count as 0)."""
        w = self.dense_weight
        return w * np.clip(dense, 0, None) + (1 - w) * lex_norm

    def _lexical(self, terms: list[str]) -> np.ndarray:
        """BM25 per row normalised by the query's ideal score (0..1)."""
        lex, ideal = self.bm25(terms)
        return np.minimum(lex / ideal, 1.0) if ideal > 0 else lex

    def article_chunks(self, article_id: str, terms: list[str],
                       vector: np.ndarray | None) -> list[tuple[ChunkHit, float]]:
        """Every chunk of one article with its fused score for a query, in the article's order."""
        rows = self.article_rows.get(article_id, [])
        if not rows:
            return []
        lex_norm = self._lexical(terms)[rows]
        if vector is None:
            dense, fused = np.zeros_like(lex_norm), lex_norm
        else:
            dense = self.vectors[rows] @ vector.astype(np.float32)
            fused = self._fuse(dense, lex_norm)
        return [(ChunkHit(r, self.row_section[r], self.row_text[r], float(d), float(lx), bool(self.row_card[r])),
                 float(f)) for r, d, lx, f in zip(rows, dense, lex_norm, fused, strict=True)]

    def _dense(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Every row's cosine with ``vector``, and per row how far off it may be (None: all exact)."""
        scan = self._scan
        if scan is not None:
            try:
                approx, bound = scan.scores(vector)
            except Exception as exc:  # the runtime failing mid-flight: float32 until the next re-pack
                log.warning("quantized vector scan failed, scoring in float32: %s", exc)
                self._scan, self._scan_lost = None, True
                self._stale.clear()
            else:
                dense = np.zeros(len(self.alive), dtype=np.float32)
                error = np.zeros(len(self.alive), dtype=np.float32)
                dense[: scan.rows], error[: scan.rows] = approx, bound
                if self._stale:
                    rows = np.fromiter(self._stale, dtype=np.int64, count=len(self._stale))
                    dense[rows], error[rows] = self.vectors[rows] @ vector, 0.0
                return dense, error
        return self.vectors @ vector, None

    def _rescore_exactly(self, n: int, vector: np.ndarray, error: np.ndarray, dense: np.ndarray,
                         lex_norm: np.ndarray, fused: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        """The true best ``n`` rows (best first) from dense scores off by at most ``error`` (fixed in place).

        The approximately best n rows, scored exactly, give a floor under the true n-th score; a row can only
        be among the best if its approximate score plus its error reaches that floor: those are scored exactly.
        """
        def exact(rows: np.ndarray | slice) -> None:
            if isinstance(rows, np.ndarray) and len(rows) > len(fused) // 8:
                rows = slice(None)  # gathering that many rows costs more than the whole product
            dense[rows] = self.vectors[rows] @ vector
            fused[rows] = np.where(allowed[rows], self._fuse(dense[rows], lex_norm[rows]), -1.0)
            error[rows] = 0.0

        first = _best_rows(fused, n)
        exact(first)
        floor = fused[first].min()
        doubt = np.flatnonzero(fused + self.dense_weight * error >= floor)
        exact(doubt[error[doubt] > 0])  # the first rows are exact already
        return doubt[_best_rows(fused[doubt], n)]

    def search(self, terms: list[str], vector: np.ndarray | None, *, groups: frozenset[str] = frozenset(),
               k: int = 5, per_article: int = 3) -> list[ArticleHit]:
        """Articles ranked by the fused score of their best chunk."""
        if self.n_rows == 0:
            return []
        self._install_packed()
        allowed = self._allowed(frozenset(g.lower() for g in groups))
        lex_norm = self._lexical(terms)
        error = None
        if vector is not None:
            vector = vector.astype(np.float32)
            dense, error = self._dense(vector)
            fused = self._fuse(dense, lex_norm)
        else:
            dense = np.zeros_like(lex_norm)
            fused = lex_norm
        fused = np.where(allowed, fused, -1.0)
        # best rows first, then group by article
        n_cand = min(int(allowed.sum()), max(k * per_article * 8, 64))
        if n_cand <= 0:
            return []
        if error is not None and vector is not None:
            cand = self._rescore_exactly(n_cand, vector, error, dense, lex_norm, fused, allowed)
        else:
            cand = _best_rows(fused, n_cand)
        hits: dict[int, ArticleHit] = {}
        for row in cand:
            row = int(row)
            if fused[row] < 0:
                break
            slot = int(self.row_article[row])
            chunk = ChunkHit(row, self.row_section[row], self.row_text[row], float(dense[row]),
                             float(lex_norm[row]), bool(self.row_card[row]))
            hit = hits.get(slot)
            if hit is None:
                if len(hits) >= k:
                    continue
                info = self.articles[self.slot_article[slot]]  # type: ignore[index]
                hits[slot] = ArticleHit(info, float(fused[row]), chunk.dense, chunk.lexical, chunk, [chunk])
            elif len(hit.chunks) < per_article:
                hit.chunks.append(chunk)
                hit.dense = max(hit.dense, chunk.dense)
                hit.lexical = max(hit.lexical, chunk.lexical)
        return sorted(hits.values(), key=lambda h: -h.score)


__all__ = ["ArticleHit", "ArticleInfo", "ChunkHit", "ChunkInput", "HybridIndex"]
