"""Run the production harness: ``.venv/bin/python -m bench.harness [load|faults|fuzz|all] [options]``.

PostgreSQL legs need ``HELPDESK_TEST_DATABASE_URL`` (a server where we may
CREATE/DROP databases); they are skipped, with a note, when it is unset.
Prints one JSON document of figures, then the goals with PASS/FAIL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import directory, faults, fuzz, runs, scan, stack  # noqa: E402


def _load(args: argparse.Namespace, work: Path, pg: str | None, out: dict[str, Any]) -> None:
    legs = [("sqlite", 1), ("postgresql", 1), ("postgresql", 2)]
    for backend, replicas in legs:
        if backend == "postgresql" and not pg:
            out[f"load_{backend}_{replicas}"] = "skipped: HELPDESK_TEST_DATABASE_URL is unset"
            continue
        users = args.users if (backend, replicas) == ("postgresql", 2) else max(5, args.users // 2)
        seconds = args.seconds if (backend, replicas) == ("postgresql", 2) else max(10.0, args.seconds / 4)
        slack_users = users // 5
        print(f"load: {backend} × {replicas} replica(s), {users} users for {seconds:.0f} s …", file=sys.stderr)
        out[f"load_{backend}_{replicas}"] = {
            "users": users, "slack_users": slack_users, "seconds": seconds,
            **runs.load_run(work / f"load-{backend}-{replicas}", backend=backend, replicas=replicas,
                            http_users=users - slack_users, slack_users=slack_users, seconds=seconds,
                            models_dir=args.models, pg_url=pg)}


def _faults(args: argparse.Namespace, work: Path, pg: str | None, out: dict[str, Any]) -> None:
    backend = "postgresql" if pg else "sqlite"
    print("faults: Slack events delivered 3× …", file=sys.stderr)
    out["triple_delivery"] = faults.triple_delivery_run(work / "triple", models_dir=args.models, pg_url=pg,
                                                        backend=backend, replicas=2 if pg else 1)
    print("faults: the directory (slapd) stopped mid-flow …", file=sys.stderr)
    out["directory_outage"] = directory.directory_outage_run(work / "directory", models_dir=args.models)
    if not pg:
        out["kill9"] = out["db_outage"] = "skipped: needs PostgreSQL (HELPDESK_TEST_DATABASE_URL)"
        return
    print("faults: kill -9 of a replica under load …", file=sys.stderr)
    out["kill9"] = faults.kill9_run(work / "kill9", models_dir=args.models, pg_url=pg)
    print("faults: database cut through the TCP proxy …", file=sys.stderr)
    out["db_outage"] = faults.db_outage_run(work / "outage", models_dir=args.models, pg_url=pg)


def _fuzz(args: argparse.Namespace, work: Path, out: dict[str, Any]) -> None:
    print(f"fuzz: {args.fuzz} inputs …", file=sys.stderr)
    with runs.deployment(work / "fuzz", backend="sqlite", replicas=1, models_dir=args.models, pg_url=None) as dep:
        report = fuzz.fuzz(dep.urls[0], args.fuzz)
        out["fuzz"] = {**report.figures(), "server_tracebacks": dep.tracebacks()}
        out["secrets_scan_fuzz"] = scan.scan(stack.SECRETS, database_url=dep.database_url,
                                             logs=[r.log_path for r in dep.replicas])


def goals(out: dict[str, Any]) -> list[tuple[str, bool | None]]:
    """The issue's goals, each PASS/FAIL (None: not run)."""
    def leg(name: str) -> dict[str, Any] | None:
        value = out.get(name)
        return value if isinstance(value, dict) else None

    two = leg("load_postgresql_2")
    triple = leg("triple_delivery")
    kill = leg("kill9")
    cut = leg("db_outage")
    ldap = leg("directory_outage")
    ldap = ldap if ldap is not None and "skipped" not in ldap else None
    fz = leg("fuzz")
    scans = [v for k, v in out.items() if k.startswith("secrets_scan") and isinstance(v, dict)]
    scans += [v["secrets_scan"] for v in out.values() if isinstance(v, dict) and "secrets_scan" in v]
    return [
        ("50 users × 2 min, two replicas on PostgreSQL: 0 errors, 0 lost/duplicated turns",
         None if two is None else (two["http_5xx"] + two["no_answer"] + two["problems"] == 0
                                   and two["users"] >= 50 and two["seconds"] >= 120)),
        ("each Slack event delivered 3× → exactly 1 reply",
         None if triple is None else triple["events_answered_once"] == triple["events"]),
        ("kill -9 under load → 0 lost accepted turns, 0 outbox rows delivered twice, all acked events answered",
         None if kill is None else (kill["problems"] == 0 and kill["outbox_delivered_twice_or_more"] == 0
                                    and kill["outbox_never_delivered"] == 0)),
        ("database cut and back → 0 5xx, 0 unanswered, nothing half-written, /readyz 503 then 200",
         None if cut is None else (cut["http_5xx"] + cut["no_answer"] + cut["problems"] == 0
                                   and cut["readyz_during_outage"] == 503 and cut["readyz_after"] == 200)),
        ("directory gone mid-flow → every event answered, told so, resets work again after",
         None if ldap is None else (ldap["http_5xx"] + ldap["acknowledged_never_answered"]
                                    + ldap["after_outage_still_unreachable"] + ldap["server_tracebacks"] == 0
                                    and ldap["mid_flow_yes"] > 0
                                    and ldap["mid_flow_yes_told_unreachable"] == ldap["mid_flow_yes"])),
        ("10,000 fuzzed inputs → 0 5xx, 0 tracebacks, 0 wrong acceptances",
         None if fz is None else (fz["inputs"] >= 10_000 and fz["http_5xx"] == 0 and fz["server_tracebacks"] == 0
                                  and fz["wrong_acceptances"] == 0)),
        ("0 secrets found by the scan", None if not scans else all(not s["found"] for s in scans)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["load", "faults", "fuzz", "all"], nargs="?", default="all")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--fuzz", type=int, default=10_000)
    parser.add_argument("--models", type=Path, default=Path(tempfile.gettempdir()) / "helpdesk-bench-models",
                        help="trained models folder, reused across runs and processes")
    args = parser.parse_args()
    pg = os.environ.get("HELPDESK_TEST_DATABASE_URL")
    out: dict[str, Any] = {"machine": f"{os.cpu_count()} cores", "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    with tempfile.TemporaryDirectory(prefix="helpdesk-harness-") as tmp:
        work = Path(tmp)
        stack.prepare_models(args.models, work)
        try:
            if args.what in ("load", "all"):
                _load(args, work, pg, out)
            if args.what in ("faults", "all"):
                _faults(args, work, pg, out)
        except BaseException:
            print(json.dumps(out, indent=2))
            raise
        try:
            if args.what in ("fuzz", "all"):
                _fuzz(args, work, out)
        finally:  # whatever finished is printed, even if a later leg failed
            print(json.dumps(out, indent=2))
    for goal, ok in goals(out):
        print(f"{'PASS' if ok else 'not run' if ok is None else 'FAIL'}: {goal}")


if __name__ == "__main__":
    main()
