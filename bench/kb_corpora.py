"""Retrieval and declining on every development corpus, side by side (what `helpdesk kb eval` scores).

Run: ``.venv/bin/python bench/kb_corpora.py [--corpora kb-18f,kb-posthog] [--blind] [--threshold T] [--json]``

Each corpus (``../shared/benchmarks/<name>/pages`` + ``questions.dev.jsonl``, or
``<name>:<questions file>`` for other questions over the same pages) is imported
into a scratch database (licence/provenance files skipped) and every question
asked. ``--blind`` adds our own blind sets (``bench/questions/*-blind.jsonl``: 70
questions per handbook written from its page titles alone, then labelled by
reading the pages; the labels are strict, so a page that partly answers counts
as no answer). Then leave-one-corpus-out: each corpus at the answer threshold
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

from knowledge_base.evaluate import Corpus, run_corpora  # noqa: E402 - after the sys.path line

BENCH = ROOT.parent / "shared" / "benchmarks"
QUESTIONS = ROOT / "bench" / "questions"


def _corpus(spec: str) -> Corpus:
    """``name`` (under ../shared/benchmarks), a folder, or either with ``:questions-file``."""
    where, _, questions = spec.partition(":")
    folder = Path(where) if "/" in where else BENCH / where
    if not questions:
        return folder
    return Path(questions).name.removesuffix(".jsonl"), folder / "pages", Path(questions)


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
    ap.add_argument("--blind", action="store_true", help="add the blind sets in bench/questions")
    args = ap.parse_args()
    from intents.encoder import get_encoder

    args.cache.mkdir(exist_ok=True)
    specs = args.corpora.split(",")
    if args.blind:
        specs += [f"{q.name.removesuffix('-blind.jsonl')}:{q}" for q in sorted(QUESTIONS.glob("*-blind.jsonl"))]
    out = run_corpora([_corpus(c) for c in specs], get_encoder, threshold=args.threshold, cache_dir=args.cache)
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
