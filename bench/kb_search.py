"""Benchmark knowledge-base search, index build and incremental update at 1k/10k/100k chunks.

Run: ``.venv/bin/python bench/kb_search.py [--scales 1000,10000,100000] [--queries 200] [--no-encoder]
[--vectors isotropic]``

A synthetic corpus (Zipf-distributed vocabulary, ~60 terms per chunk, 5 chunks
per article) is indexed in the real ``HybridIndex``. Its unit vectors are shaped
like sentence embeddings: a direction they all share and topics of 50 chunks,
for a mean cosine of about 0.17 between two chunks (PostHog handbook sections
give 0.16 with the bundled encoder); ``--vectors isotropic`` draws them at
random as the earlier runs did (mean cosine 0).
Every figure is printed next to a brute-force baseline measured in the same run:

* search: inverted-index BM25 + one matrix product + partial sort (from 20,000 chunks the product runs
  over a one-byte copy of the vectors and the rows it leaves in doubt are re-scored exactly; the "f32"
  columns time the same index and questions with the float32 product over every row), versus
  scoring every chunk's terms one by one plus the same dense product and a full
  sort; "with encoder" adds the real all-MiniLM-L6-v2 encoding of each question
  (the bot encodes each message once and shares it, so that cost is paid once).
* build: indexing pre-encoded chunks, versus the minimal brute-force store (a
  list of term counters and one stacked matrix); the encoder's own throughput on
  real chunk texts is printed too, because a fresh import is bound by it.
* incremental update: re-indexing one edited article, versus rebuilding the index.
* re-pack (from 20,000 chunks): after 2,048+ changed chunks, how long the sync waits when the one-byte
  copy is re-packed in the background, versus in place (the baseline), and search latency meanwhile.
* end to end at 10,000 articles: ``import_dir`` of a folder where one file changed
  (SQLite, change detection over every file, one article re-chunked, re-encoded
  and re-indexed), versus the full first import of that folder.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.encoding import DIM  # noqa: E402 - after the sys.path line
from knowledge_base import quantized_scan  # noqa: E402
from knowledge_base.index import ArticleInfo, ChunkInput, HybridIndex  # noqa: E402

CHUNKS_PER_ARTICLE = 5
VOCAB = 30000


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, math.ceil(p / 100 * len(values)) - 1)]


SHARED, TOPIC, TOPIC_CHUNKS = 0.55, 0.7, 50  # the embedding-like vectors' shape (see the module docstring)


def corpus(n_chunks: int, rng: np.random.Generator, vectors: str = "embedding-like",
           ) -> tuple[list[list[str]], np.ndarray]:
    ranks = rng.zipf(1.3, size=(n_chunks, 60)) % VOCAB
    terms = [[f"w{r}" for r in row[: rng.integers(20, 60)]] for row in ranks]
    vecs = rng.standard_normal((n_chunks, DIM)).astype(np.float32)
    if vectors == "embedding-like":
        vecs /= math.sqrt(DIM)
        shared = rng.standard_normal(DIM).astype(np.float32)
        topics = rng.standard_normal((n_chunks // TOPIC_CHUNKS + 1, DIM)).astype(np.float32)
        topics /= np.linalg.norm(topics, axis=1, keepdims=True)
        vecs += SHARED * shared / np.linalg.norm(shared) + TOPIC * topics[np.arange(n_chunks) // TOPIC_CHUNKS]
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return terms, vecs


def build_index(terms: list[list[str]], vecs: np.ndarray) -> HybridIndex:
    idx = HybridIndex(dim=DIM, capacity=max(1024, len(terms)))
    for a in range(0, len(terms), CHUNKS_PER_ARTICLE):
        chunks = [ChunkInput(None, "", terms[i], vecs[i]) for i in range(a, min(a + CHUNKS_PER_ARTICLE, len(terms)))]
        idx.upsert(ArticleInfo(f"a{a}", f"Article {a}", f"a{a}.md"), chunks)
    idx.prepare()  # as the live index does after a sync: the one-byte vector copy of a large index
    return idx


class BruteForce:
    """The baseline: every chunk's term counts scored one by one, dense by one product, full sort."""

    def __init__(self, terms: list[list[str]], vecs: np.ndarray) -> None:
        self.tf = [Counter(t) for t in terms]
        self.lens = np.array([len(t) for t in terms], dtype=np.float32)
        self.vecs = np.vstack(vecs) if isinstance(vecs, list) else vecs
        df: Counter[str] = Counter()
        for c in self.tf:
            df.update(c.keys())
        n = len(terms)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.avg = float(self.lens.mean())

    def search(self, q_terms: list[str], q_vec: np.ndarray, k: int = 5) -> list[int]:
        lex = np.zeros(len(self.tf), dtype=np.float32)
        for i, c in enumerate(self.tf):
            s = 0.0
            for t in q_terms:
                f = c.get(t)
                if f:
                    s += self.idf[t] * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * self.lens[i] / self.avg))
            lex[i] = s
        fused = 0.7 * np.clip(self.vecs @ q_vec, 0, None) + 0.3 * lex / (lex.max() or 1)
        order = np.argsort(-fused)
        seen: list[int] = []
        for row in order:
            art = int(row) // CHUNKS_PER_ARTICLE
            if art not in seen:
                seen.append(art)
                if len(seen) == k:
                    break
        return seen


def queries(terms: list[list[str]], vecs: np.ndarray, n: int, rng: np.random.Generator):
    out = []
    for _ in range(n):
        i = int(rng.integers(len(terms)))
        q_terms = list(rng.choice(terms[i], size=min(5, len(terms[i])), replace=False))
        v = vecs[i] + 0.5 * rng.standard_normal(DIM).astype(np.float32) / math.sqrt(DIM)
        out.append((q_terms, (v / np.linalg.norm(v)).astype(np.float32)))
    return out


def timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t) * 1000


def run_scale(n: int, n_queries: int, encoder, questions: list[str], rng: np.random.Generator,
              vectors: str) -> dict:
    terms, vecs = corpus(n, rng, vectors)
    t = time.perf_counter()
    idx = build_index(terms, vecs)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    brute = BruteForce(terms, vecs)
    brute_build_s = time.perf_counter() - t
    qs = queries(terms, vecs, n_queries, rng)
    ours = [timed(idx.search, q, v) for q, v in qs]
    idx.prepare(quantized=False)  # the same index scoring every row in float32, for comparison
    exact = [timed(idx.search, q, v) for q, v in qs]
    idx.prepare()
    n_brute = max(10, min(n_queries, 2_000_000 // n))
    base = [timed(brute.search, q, v) for q, v in qs[:n_brute]]
    row = {"chunks": n, "p50": statistics.median(ours), "p99": pct(ours, 99),
           "f32_p50": statistics.median(exact), "f32_p99": pct(exact, 99),
           "base_p50": statistics.median(base), "base_p99": pct(base, 99),
           "build_per_s": n / build_s, "base_build_per_s": n / brute_build_s}
    if encoder is not None:
        enc = []
        for i in range(min(n_queries, 50)):
            enc.append(timed(encoder.encode_one, questions[i % len(questions)]))
        with_enc = [e + o for e, o in zip(enc, ours, strict=False)]
        with_base = [e + b for e, b in zip(enc, base, strict=False)]
        row.update({"enc_p50": statistics.median(with_enc), "enc_p99": pct(with_enc, 99),
                    "enc_base_p50": statistics.median(with_base), "enc_base_p99": pct(with_base, 99)})
    # incremental update: one article (5 chunks) edited
    art = (n // 2) // CHUNKS_PER_ARTICLE * CHUNKS_PER_ARTICLE
    new_terms, new_vecs = corpus(CHUNKS_PER_ARTICLE, rng, vectors)
    chunks = [ChunkInput(None, "", new_terms[i], new_vecs[i]) for i in range(CHUNKS_PER_ARTICLE)]
    upd = [timed(idx.upsert, ArticleInfo(f"a{art}", "edited", f"a{art}.md"), chunks) for _ in range(5)]
    terms[art:art + CHUNKS_PER_ARTICLE] = new_terms
    vecs[art:art + CHUNKS_PER_ARTICLE] = new_vecs
    rebuild = timed(build_index, terms, vecs) if n <= 10_000 else build_s * 1000
    row.update({"update_ms": statistics.median(upd), "rebuild_ms": rebuild})
    if idx.quantized:
        row.update(repack(idx, rng, vectors, qs))
    return row


def _edit_many(idx: HybridIndex, rng: np.random.Generator, vectors: str) -> None:
    """Re-index enough articles that the next prepare re-packs the one-byte copy."""
    n_chunks = (quantized_scan.STALE_LIMIT // CHUNKS_PER_ARTICLE + 1) * CHUNKS_PER_ARTICLE
    new_terms, new_vecs = corpus(n_chunks, rng, vectors)
    for start in range(0, n_chunks, CHUNKS_PER_ARTICLE):
        idx.upsert(ArticleInfo(f"a{start}", "edited", f"a{start}.md"),
                   [ChunkInput(None, "", new_terms[i], new_vecs[i]) for i in range(start, start + CHUNKS_PER_ARTICLE)])


def repack(idx: HybridIndex, rng: np.random.Generator, vectors: str, qs: list) -> dict:
    """How long a sync waits for the re-pack after many edits: in place (baseline) vs in the background."""
    _edit_many(idx, rng, vectors)
    in_place = timed(lambda: idx.prepare())
    _edit_many(idx, rng, vectors)
    background = timed(lambda: idx.prepare(background=True))
    during = []
    while idx.packing and len(during) < 10 * len(qs):
        q, v = qs[len(during) % len(qs)]
        during.append(timed(idx.search, q, v))
    idx.finish_packing()
    return {"repack_in_place_ms": in_place, "repack_background_ms": background,
            "during_p50": statistics.median(during) if during else float("nan"),
            "during_p99": pct(during, 99) if during else float("nan")}


class HashEncoder:
    """Deterministic pseudo-vectors, for the end-to-end import timing without the model's cost."""

    dim = DIM

    def encode(self, texts, **_):
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            r = np.random.default_rng(abs(hash(t)) % (2 ** 32))
            v = r.standard_normal(DIM)
            out[i] = v / np.linalg.norm(v)
        return out

    def encode_one(self, text):
        return self.encode([text])[0]


def end_to_end(n_articles: int, encoder) -> dict:
    """import_dir on a folder of n articles: first import, then one edited file."""
    from bot.storage import migrate
    from bot.storage.session import Database
    from knowledge_base.service import KnowledgeBase

    rng = np.random.default_rng(7)
    words = [f"word{i}" for i in range(5000)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "kb"
        for a in range(n_articles):
            p = folder / f"group{a % 100}" / f"article-{a}.md"
            p.parent.mkdir(parents=True, exist_ok=True)
            sections = "\n\n".join(f"## Section {s}\n\n" + " ".join(rng.choice(words, 40)) for s in range(4))
            p.write_text(f"---\ntitle: Article {a}\nowner: t@example.com\n---\n\nIntro {a}.\n\n{sections}\n")
        db = Database(f"sqlite:///{Path(tmp) / 'kb.db'}")
        migrate.upgrade(db)
        fake = HashEncoder()
        kb = KnowledgeBase(db, lambda: fake)
        kb.mark_bootstrapped()
        t = time.perf_counter()
        kb.import_dir(folder)
        first = time.perf_counter() - t
        a = n_articles // 2
        edited = folder / f"group{a % 100}" / f"article-{a}.md"
        edited.write_text(edited.read_text().replace(f"Intro {a}.", f"Intro {a}, now edited."))
        t = time.perf_counter()
        summary = kb.import_dir(folder)
        again = time.perf_counter() - t
        assert summary.updated == [f"group{a % 100}/article-{a}"], summary.updated
        # the model's cost for that one article (5 chunks), measured on the real encoder
        enc_ms = timed(encoder.encode, ["Article 507 - Section 1: " + " ".join(rng.choice(words, 40))] * 5) \
            if encoder is not None else 0.0
        db.dispose()
    return {"articles": n_articles, "first_import_s": first, "one_edit_s": again, "one_edit_encoder_ms": enc_ms}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scales", default="1000,10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--articles", type=int, default=10000, help="folder size for the end-to-end edit timing")
    ap.add_argument("--no-encoder", action="store_true", help="skip the real sentence encoder")
    ap.add_argument("--vectors", choices=["embedding-like", "isotropic"], default="embedding-like",
                    help="the synthetic vectors' shape (see above)")
    args = ap.parse_args()
    encoder = None
    questions = ["my vpn keeps disconnecting", "how do I print from my laptop", "can I install software myself",
                 "I got a suspicious email", "where do I return my old laptop"]
    enc_rate = None
    if not args.no_encoder:
        sys.path.insert(0, str(ROOT))
        from intents.encoder import get_encoder

        encoder = get_encoder()
        encoder.encode(questions)  # warm up
        sample = ["Article - Section: " + " ".join(["word"] * 60 + [q]) for q in questions * 13]
        t = time.perf_counter()
        encoder.encode(sample)
        enc_rate = len(sample) / (time.perf_counter() - t)
    rng = np.random.default_rng(42)
    rows = [run_scale(int(s), args.queries, encoder, questions, rng, args.vectors) for s in args.scales.split(",")]
    print(f"\nSearch latency per question, ms, {args.vectors} vectors (ours vs brute-force baseline, same run; "
          "load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end)")
    print("(f32: the same index scoring every vector in float32, without the one-byte copy used from "
          f"{quantized_scan.MIN_ROWS} chunks)")
    print(f"{'chunks':>8} | {'p50':>7} {'p99':>7} | {'f32 p50':>7} {'f32 p99':>7} | {'base p50':>8} {'base p99':>8} "
          f"| {'x p50':>6}"
          + (f" | {'+enc p50':>8} {'+enc p99':>8} | {'base+enc p50':>12} {'base+enc p99':>12}" if encoder else ""))
    for r in rows:
        line = (f"{r['chunks']:>8} | {r['p50']:7.2f} {r['p99']:7.2f} | {r['f32_p50']:7.2f} {r['f32_p99']:7.2f} | "
                f"{r['base_p50']:8.1f} {r['base_p99']:8.1f} | "
                f"{r['base_p50'] / r['p50']:5.0f}x")
        if encoder:
            line += (f" | {r['enc_p50']:8.1f} {r['enc_p99']:8.1f} | {r['enc_base_p50']:12.1f} "
                     f"{r['enc_base_p99']:12.1f}")
        print(line)
    print("\nIndex build (pre-encoded chunks) and one-article update")
    print(f"{'chunks':>8} | {'build chunks/s':>14} {'baseline chunks/s':>17} | {'update ms':>9} {'rebuild ms':>10} "
          f"| {'x':>6}")
    for r in rows:
        print(f"{r['chunks']:>8} | {r['build_per_s']:14.0f} {r['base_build_per_s']:17.0f} | {r['update_ms']:9.2f} "
              f"{r['rebuild_ms']:10.0f} | {r['rebuild_ms'] / r['update_ms']:5.0f}x")
    for r in rows:
        if "repack_in_place_ms" in r:
            print(f"\nRe-pack of the one-byte copy at {r['chunks']} chunks, after {quantized_scan.STALE_LIMIT}+ "
                  f"changed chunks: the sync waits {r['repack_background_ms']:.0f} ms (background) vs "
                  f"{r['repack_in_place_ms']:.0f} ms in place, "
                  f"{r['repack_in_place_ms'] / max(r['repack_background_ms'], 1e-9):.0f}x less; searches while it "
                  f"packs: p50 {r['during_p50']:.2f} ms, p99 {r['during_p99']:.2f} ms")
    if enc_rate:
        print(f"\nEncoder throughput on chunk-sized texts: {enc_rate:.0f} chunks/s "
              f"(a fresh import of 100k chunks is bound by this: ~{100000 / enc_rate / 60:.0f} min; "
              "re-imports only encode changed sections)")
    if args.articles:
        e = end_to_end(args.articles, encoder)
        print(f"\nEnd to end, {e['articles']} articles in SQLite: first import {e['first_import_s']:.1f} s "
              f"(vectors from a hash stand-in), re-import with one edited file {e['one_edit_s']:.2f} s "
              f"+ {e['one_edit_encoder_ms']:.0f} ms to encode its chunks with the real model "
              f"(baseline: the full import, {e['first_import_s'] / max(e['one_edit_s'], 1e-9):.0f}x slower)")


if __name__ == "__main__":
    main()
