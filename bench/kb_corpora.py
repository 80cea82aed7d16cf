"""Retrieval and declining on every development corpus, side by side (what `helpdesk kb eval` scores).

Run: ``.venv/bin/python bench/kb_corpora.py [--corpora kb-18f,kb-posthog] [--threshold T] [--json]``

Each corpus (``../shared/benchmarks/<name>/pages`` + ``questions.dev.jsonl``) is
imported into a scratch database and every question asked; vectors are cached
in ``var/bench-kb-vectors.npz`` so a change to ranking re-encodes only changed chunks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge_base.evaluate import run_eval  # noqa: E402 - after the sys.path line

BENCH = ROOT.parent / "shared" / "benchmarks"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", default="kb-18f,kb-posthog")
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from intents.encoder import get_encoder

    cache = ROOT / "var"
    cache.mkdir(exist_ok=True)
    out = {}
    for name in args.corpora.split(","):
        rep = run_eval(BENCH / name / "pages", BENCH / name / "questions.dev.jsonl", get_encoder,
                       threshold=args.threshold, cache_dir=cache)
        out[name] = rep.to_dict()
        m = out[name]["metrics"]
        dec = "n/a" if m["declined_share"] is None else f"{m['declined_share']:.2f}"
        print(f"{name:12} hit@1 {m['hit@1']:.2f}  hit@5 {m['hit@5']:.2f}  MRR {m['mrr']:.3f}  "
              f"answered {m['answered_share']:.2f}  declined {dec}  (threshold {m['threshold']:.2f})", flush=True)
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
