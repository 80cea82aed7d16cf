"""Measure the ticket outbox: N escalations while the (fake) Jira fails for a period.

Run: ``.venv/bin/python bench/ticket_outbox.py [--n 200]``

Every escalation goes through the real engine (``ticket.submit``), is written to
the outbox in the turn's transaction, and is delivered by
``integrations.ticketing.worker.run_once`` to the spec-validating fake Jira from
tests/ticketing/ (the measurement is ``tests.ticketing.outage.measure``, which the
tests run small). During the outage Jira answers 500, then *creates issues but the
answers are lost* (client time-out), then 429 with Retry-After, then plain
time-outs, then recovers. The same run is repeated with the idempotency check
switched off (naive retry), the baseline, and both are printed: issues created,
duplicates, tickets lost, delivery rounds.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ticketing.outage import SPEC, measure  # noqa: E402 - needs the checkout on sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="number of escalations")
    parser.add_argument("--deployment", choices=["cloud", "server"], default="cloud")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    if not SPEC.exists():
        sys.exit(f"{SPEC} is absent: the shared specs folder must be beside the checkout")
    import logging

    logging.disable(logging.WARNING)
    ours = measure(args.n, idempotent=True, deployment=args.deployment)
    naive = measure(args.n, idempotent=False, deployment=args.deployment)
    if args.json:
        print(json.dumps({"idempotent": ours, "naive_baseline": naive}, indent=2))
        return
    print(f"{args.n} escalations, Jira {args.deployment}: outage = 3 rounds of HTTP 500, "
          f"{ours['lost_responses_injected']} creates whose answer is lost, 429s, time-outs; then healthy")
    print(f"{'':28}{'outbox + idempotency':>22}{'naive retry (baseline)':>25}")
    for key in ("issues_in_jira", "tickets_with_key", "duplicates", "lost", "delivery_rounds",
                "delivery_attempts", "contract_violations", "seconds"):
        print(f"{key:28}{ours[key]!s:>22}{naive[key]!s:>25}")
    ratio = (ours["issues_in_jira"] / args.n, naive["issues_in_jira"] / args.n)
    print(f"issues per escalation: {ratio[0]:.3f} (idempotent) vs {ratio[1]:.3f} (baseline)")


if __name__ == "__main__":
    main()
