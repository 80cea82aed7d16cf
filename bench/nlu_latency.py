"""Benchmark intent parsing against the bare sentence encoder, in the same run.

Run: ``.venv/bin/python bench/nlu_latency.py [--repeats 300] [--batch 64] [--json]``

* single messages: p50 / p99 of ``parser.parse(text)`` (encode + classify +
  entities) versus ``encoder.encode_one(text)`` on the same texts, interleaved
  so both see the same machine load; the ratio is parse / encoder.
* the engine's path: ``parse(text, embedding=...)`` with the shared embedding,
  i.e. what parsing adds on top of the one encoding per message.
* batches: messages per second of ``parser.parse_batch`` versus ``encoder.encode``.

Target: parsing adds at most 20% over the encoder itself (ratio <= 1.20).
The model is trained on the shipped data/intents into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MESSAGES = [
    "hi", "thanks!", "my vpn keeps disconnecting every few minutes, urgent",
    "what's the status of IT-4521?", "I forgot my password and I'm locked out of my laptop",
    "can't get my work email on my new iphone", "printer on floor 2 is jammed again",
    "who won the football match last night", "need access to the finance shared drive asap",
    "my GlobalProtect says authentication failed, email me at jane.doe@example.com",
    "talk to a human please", "the second monitor isn't detected when I plug in the docking station",
]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=300, help="single-message calls per variant")
    ap.add_argument("--batch", type=int, default=64, help="batch size for the throughput test")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    from intents.data import load_training_data
    from intents.encoder import get_encoder
    from intents.parser import BuiltinParser
    from intents.trainer import train_model

    encoder = get_encoder()
    with tempfile.TemporaryDirectory() as tmp:
        model = train_model(load_training_data(ROOT / "data" / "intents"), encoder,
                            cache_path=Path(tmp) / "emb.npz")
    parser = BuiltinParser(model, lambda: encoder)
    for text in MESSAGES:  # warm up both paths
        parser.parse(text)
        encoder.encode_one(text)

    enc_t: list[float] = []
    parse_t: list[float] = []
    shared_t: list[float] = []
    for i in range(args.repeats):
        text = MESSAGES[i % len(MESSAGES)]
        t0 = time.perf_counter()
        vec = encoder.encode_one(text)
        t1 = time.perf_counter()
        parser.parse(text)
        t2 = time.perf_counter()
        parser.parse(text, embedding=vec)
        t3 = time.perf_counter()
        enc_t.append((t1 - t0) * 1000)
        parse_t.append((t2 - t1) * 1000)
        shared_t.append((t3 - t2) * 1000)

    batch = [MESSAGES[i % len(MESSAGES)] + f" #{i}" for i in range(args.batch)]
    rounds = max(3, 600 // args.batch)
    enc_b, parse_b = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        encoder.encode(batch)
        t1 = time.perf_counter()
        parser.parse_batch(batch)
        t2 = time.perf_counter()
        enc_b.append(t1 - t0)
        parse_b.append(t2 - t1)

    enc_p50, parse_p50 = statistics.median(enc_t), statistics.median(parse_t)
    result = {
        "single": {
            "encoder_ms": {"p50": round(enc_p50, 3), "p99": round(percentile(enc_t, 99), 3)},
            "parse_ms": {"p50": round(parse_p50, 3), "p99": round(percentile(parse_t, 99), 3)},
            "parse_with_shared_embedding_ms": {"p50": round(statistics.median(shared_t), 3),
                                               "p99": round(percentile(shared_t, 99), 3)},
            "ratio_p50": round(parse_p50 / enc_p50, 3),
            "ratio_p99": round(percentile(parse_t, 99) / percentile(enc_t, 99), 3),
        },
        "batch": {
            "size": args.batch,
            "encoder_msgs_per_s": round(args.batch / statistics.median(enc_b), 1),
            "parse_msgs_per_s": round(args.batch / statistics.median(parse_b), 1),
            "ratio_time": round(statistics.median(parse_b) / statistics.median(enc_b), 3),
        },
        "target": "parse / encoder <= 1.20",
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    s, b = result["single"], result["batch"]
    print(f"single message ({args.repeats} calls each, interleaved)")
    print(f"  encoder only          p50 {s['encoder_ms']['p50']:7.2f} ms   p99 {s['encoder_ms']['p99']:7.2f} ms")
    print(f"  parse (encode+NLU)    p50 {s['parse_ms']['p50']:7.2f} ms   p99 {s['parse_ms']['p99']:7.2f} ms")
    print(f"  parse, shared vector  p50 {s['parse_with_shared_embedding_ms']['p50']:7.2f} ms   "
          f"p99 {s['parse_with_shared_embedding_ms']['p99']:7.2f} ms")
    print(f"  ratio parse/encoder   p50 {s['ratio_p50']:.3f}x   p99 {s['ratio_p99']:.3f}x   (target <= 1.20)")
    print(f"batch of {b['size']}")
    print(f"  encoder {b['encoder_msgs_per_s']:8.1f} msg/s   parse_batch {b['parse_msgs_per_s']:8.1f} msg/s   "
          f"time ratio {b['ratio_time']:.3f}x")


if __name__ == "__main__":
    main()
