"""Benchmark `kb gaps` clustering: the old pairwise average-link loop vs the vector-sum one, same data.

Run: ``.venv/bin/python bench/kb_gaps.py [--sizes 180,683,3000] [--old-max 683]``

The questions are real: CLINC150's validation texts (``../shared/benchmarks/clinc150``),
encoded once with the bundled all-MiniLM-L6-v2 encoder, so the similarity
structure is that of employee-style questions. For each size both methods run
on the same vectors (the old one only up to ``--old-max``, since it grows about
cubically); the partitions are compared (identical or not) and the time ratio printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge_base.gaps import SIMILARITY, GapQuestion, group  # noqa: E402 - after the sys.path line

CLINC = ROOT.parent / "shared" / "benchmarks" / "clinc150" / "clinc150_train_val.json"


def old_group(vectors: np.ndarray, threshold: float = SIMILARITY) -> list[list[int]]:
    """The method `kb gaps` used before: every pair of clusters compared member by member on each merge."""
    clusters: list[list[int]] = [[i] for i in range(len(vectors))]
    sims = vectors @ vectors.T
    while True:
        best, pair = threshold, None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                s = float(sims[np.ix_(clusters[a], clusters[b])].mean())
                if s >= best:
                    best, pair = s, (a, b)
        if pair is None:
            return clusters
        a, b = pair
        clusters[a] += clusters.pop(b)


def canon(groups: list[list[int]]) -> set[frozenset[int]]:
    return {frozenset(g) for g in groups}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="180,683,3000")
    ap.add_argument("--old-max", type=int, default=683)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    data = json.loads(CLINC.read_text())
    texts = [t for t, _ in data["val"]] + [t for t, _ in data["oos_val"]]
    rng = np.random.default_rng(7)
    order = rng.permutation(len(texts))
    from intents.encoder import get_encoder

    need = max(sizes)
    chosen = [texts[i] for i in order[:need]]
    vectors = np.asarray(get_encoder().encode(chosen), dtype=np.float32)
    print(f"{'questions':>9} {'old s':>9} {'new s':>8} {'ratio':>8} {'topics':>7}  same partition")
    for n in sizes:
        vec = vectors[:n]
        qs = [GapQuestion(t, "declined", None) for t in chosen[:n]]  # type: ignore[arg-type]
        t0 = time.perf_counter()
        new = group(qs, vec)
        t_new = time.perf_counter() - t0
        if n <= args.old_max:
            t0 = time.perf_counter()
            old = old_group(vec)
            t_old = time.perf_counter() - t0
            same = "yes" if canon(old) == canon(new) else f"no ({len(canon(old) ^ canon(new))} groups differ)"
            print(f"{n:>9} {t_old:>9.2f} {t_new:>8.3f} {t_old / t_new:>7.0f}× {len(new):>7}  {same}")
        else:
            print(f"{n:>9} {'(skipped)':>9} {t_new:>8.3f} {'':>8} {len(new):>7}")


if __name__ == "__main__":
    main()
