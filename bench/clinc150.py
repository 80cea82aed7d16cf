"""CLINC150 benchmark: in-scope accuracy and out-of-scope recall next to the published figures.

Run: ``.venv/bin/python bench/clinc150.py [--data FILE] [--split val|test] [--no-oos-train] [--json]``

Same as ``helpdesk nlu benchmark``: trains on ``train`` (+ ``oos_train`` as an
``out_of_scope`` class), picks the operating point on ``val``/``oos_val`` with
the rule the bot is trained with (temperature scaling, then
``intents.scope.calibrate``: threshold on the in-scope probability and maximum
distance to the in-scope intents), reports the chosen split and val. The
default file is ../shared/benchmarks/clinc150/clinc150_train_val.json.
Embeddings are cached in /tmp so a second run takes seconds, not minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT = ROOT.parent / "shared" / "benchmarks" / "clinc150" / "clinc150_train_val.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT)
    ap.add_argument("--split", choices=["val", "test"], default="val")
    ap.add_argument("--no-oos-train", action="store_true")
    ap.add_argument("--min-oos-recall", type=float, default=None,
                    help="override for exploring (default: the bot's own rule, intents.scope.calibrate)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "helpdesk-clinc-emb.npz")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.data.exists():
        sys.exit(f"{args.data} is absent: pass --data (the shared benchmarks folder is not beside the checkout)")

    from intents.encoder import get_encoder
    from training.clinc import run_benchmark

    result = run_benchmark(args.data, get_encoder(), split=args.split, use_oos_train=not args.no_oos_train,
                           min_oos_recall=args.min_oos_recall, cache_path=args.cache)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.data.name}, split {args.split}, threshold {result['threshold']}, "
          f"max distance {result['max_distance']} ({result['operating_point']})")
    print(f"{'system':40s} {'in-scope acc %':>15s} {'oos recall %':>13s}")
    this_run = f"helpdesk (this run, {args.split})"
    print(f"{this_run:40s} {result['in_scope_accuracy']:15.2f} {result['oos_recall']:13.2f}")
    if args.split != "val":
        val = "helpdesk (this run, val)"
        print(f"{val:40s} {result['val_in_scope_accuracy']:15.2f} {result['val_oos_recall']:13.2f}")
    if "val_halves_in_scope_accuracy" in result:
        print(f"{'helpdesk (val, picked on other half)':40s} {result['val_halves_in_scope_accuracy']:15.2f} "
              f"{result['val_halves_oos_recall']:13.2f}")
    if "oos_train_recall" in result:
        print(f"{'  oos recall on unseen oos_train':40s} {'':15s} {result['oos_train_recall']:13.2f}")
    for name, fig in result["published_test"].items():
        print(f"{name + ' (published, test)':40s} {fig['in_scope_accuracy']:15.1f} {fig['oos_recall']:13.1f}")


if __name__ == "__main__":
    main()
