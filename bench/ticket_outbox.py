"""Measure the ticket outbox: 1,000 escalations while the (fake) Jira fails for a period.

Run: ``.venv/bin/python bench/ticket_outbox.py [--n 1000] [--no-baseline]``

Every escalation goes through the real engine (``ticket.submit``), is written to
the outbox in the turn's transaction, and is delivered by
``integrations.ticketing.worker.run_once`` to the spec-validating fake Jira from
tests/ticketing/ (the measurement is ``tests.ticketing.outage.measure``; the test
suite runs a 30-escalation slice). Escalations keep arriving during the outage, in
which Jira answers 500, then *creates issues but the answers are lost* (client
time-out), then refuses connections (port closed), then times out, then answers 429
with Retry-After, then recovers. Goal: exactly N tickets, 0 duplicates, 0 lost, every
Slack requester told their key. The same run with the idempotency check switched off
(naive retry) is the baseline, measured in the same run.
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
    parser.add_argument("--n", type=int, default=1000, help="number of escalations")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive-retry baseline run")
    parser.add_argument("--deployment", choices=["cloud", "server"], default="cloud")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    if not SPEC.exists():
        sys.exit(f"{SPEC} is absent: the shared specs folder must be beside the checkout")
    import logging

    logging.disable(logging.WARNING)
    ours = measure(args.n, idempotent=True, deployment=args.deployment)
    naive = ours if args.no_baseline else measure(args.n, idempotent=False, deployment=args.deployment)
    if args.json:
        print(json.dumps({"idempotent": ours, "naive_baseline": naive}, indent=2))
        return
    print(f"{args.n} escalations, Jira {args.deployment}: outage = rounds of HTTP 500, "
          f"up to {ours['lost_responses_injected']} creates whose answer is lost, refused connections, "
          f"time-outs, 429s; then healthy (faults seen: {ours['faults_seen']})")
    print(f"{'':28}{'outbox + idempotency':>22}{'naive retry (baseline)':>25}")
    for key in ("tickets_recorded", "issues_in_jira", "tickets_with_key", "duplicates", "lost", "outbox_failed",
                "slack_requesters", "slack_requesters_heard_key", "api_requesters", "api_requesters_key_queued",
                "triage_posts", "lost_answers_adopted", "delivery_rounds", "delivery_attempts",
                "contract_violations", "seconds"):
        print(f"{key:28}{ours[key]!s:>22}{naive[key]!s:>25}")
    ratio = (ours["issues_in_jira"] / args.n, naive["issues_in_jira"] / args.n)
    print(f"issues per escalation: {ratio[0]:.3f} (idempotent) vs {ratio[1]:.3f} (baseline)")
    held = (ours["tickets_with_key"] == args.n and ours["issues_in_jira"] == args.n and ours["duplicates"] == 0
            and ours["lost"] == 0 and ours["slack_requesters_heard_key"] == ours["slack_requesters"])
    print(f"goal ({args.n} tickets, 0 duplicates, 0 lost, every Slack user told their key): "
          f"{'held' if held else 'NOT held'}")
    if not held:
        sys.exit(1)


if __name__ == "__main__":
    main()
