"""Retrieval and declining on every development corpus, side by side (what `helpdesk kb eval` scores).

Run: ``.venv/bin/python bench/kb_corpora.py [--corpora kb-18f,kb-posthog] [--threshold T] [--json]``

Each corpus (``../shared/benchmarks/<name>/pages`` + ``questions.dev.jsonl``) is
imported into a scratch database (licence/provenance files skipped) and every
question asked; then leave-one-corpus-out: each corpus at the answer threshold
picked on the others, and the threshold picked on all of them together (how the
default is chosen). Vectors are cached in ``var/kb-vectors.npz`` so a change to
ranking re-encodes only changed chunks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge_base.evaluate import run_corpora  # noqa: E402 - after the sys.path line

BENCH = ROOT.parent / "shared" / "benchmarks"


def _line(name: str, m: dict) -> str:
    dec = "n/a" if m["declined_share"] is None else f"{m['declined_share']:.2f}"
    return (f"{name:14} hit@1 {m['hit@1']:.2f}  hit@5 {m['hit@5']:.2f}  MRR {m['mrr']:.3f}  "
            f"answered {m['answered_share']:.2f}  declined {dec}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", default="kb-18f,kb-posthog",
                    help="names under ../shared/benchmarks, or folders (pages/ + questions*.jsonl)")
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--cache", type=Path, default=ROOT / "var", help="folder of the vector cache")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from intents.encoder import get_encoder

    args.cache.mkdir(exist_ok=True)
    folders = [Path(c) if "/" in c else BENCH / c for c in args.corpora.split(",")]
    out = run_corpora(folders, get_encoder, threshold=args.threshold, cache_dir=args.cache)
    for name, rep in out["corpora"].items():
        m = rep["metrics"]
        print(_line(name, m) + f"  (threshold {m['threshold']:.2f})")
    loco = out["leave_one_corpus_out"]
    if loco["held_out"]:
        print("leave one corpus out (threshold picked on the others):")
        for name, m in loco["held_out"].items():
            print("  " + _line(name, m) + f"  (threshold {m['threshold']:.2f})")
        print(f"threshold picked on all corpora together: {loco['pooled_threshold']:.2f}")
        for name, m in loco["at_pooled"].items():
            print("  " + _line(name, m))
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
