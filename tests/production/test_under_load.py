"""A small, fast slice of bench/harness: real server processes, concurrent users, every turn checked.

The big runs (50 users × 2 min, kill -9, database cut, 10,000 fuzzed inputs) are
`python -m bench.harness`; these take seconds each once the servers are up.
"""

from __future__ import annotations

import pytest

from bench.harness import faults, fuzz, scan, stack
from bench.harness.load import check_turns, run_load
from bench.harness.runs import Deployment

pytestmark = pytest.mark.slow


def assert_clean(dep: Deployment, users: int, seconds: float, slack_users: int = 0) -> None:
    result = run_load(dep.urls, http_users=users, slack_users=slack_users, seconds=seconds, fake=dep.fake)
    figures = result.figures()
    assert figures["accepted"] >= users, figures  # every user got at least one answer
    assert figures["http_5xx"] == 0 and figures["no_answer"] == 0 and figures["other_4xx"] == 0, figures
    assert check_turns(dep.database_url, result) == []
    assert dep.tracebacks() == 0, dep.logs()[-3000:]


def test_ten_users_on_sqlite_every_turn_recorded_once_for_its_own_user(sqlite_server: Deployment) -> None:
    assert_clean(sqlite_server, users=8, slack_users=2, seconds=5)


def test_ten_users_on_two_postgresql_replicas_every_turn_recorded_once(pg_replicas: Deployment) -> None:
    assert_clean(pg_replicas, users=8, slack_users=2, seconds=5)


def test_two_replicas_answer_each_slack_event_once_with_and_without_retry_headers(pg_replicas: Deployment) -> None:
    report = faults.deliver_three_times(pg_replicas, events=6, prefix="UPROD")
    assert report["events_answered_once"] == 6, report
    assert report["slack_contract_violations"] == 0


def test_two_replicas_deliver_each_outbox_row_once(pg_replicas: Deployment) -> None:
    texts = faults.queue_notifications(pg_replicas.database_url, pg_replicas.fake, 30)
    report = faults.outbox_report(pg_replicas.database_url, pg_replicas.fake, texts, wait=60)
    assert report["outbox_delivered_once"] == 30, report
    assert report["outbox_pending_left"] == 0


def test_a_few_hundred_fuzzed_inputs_no_5xx_no_wrong_acceptance_no_traceback(sqlite_server: Deployment) -> None:
    report = fuzz.fuzz(sqlite_server.urls[0], budget=300)
    figures = report.figures()
    assert figures["inputs"] >= 200, figures  # Hypothesis stops early on a small space (e.g. the paths)
    assert report.server_errors == [], figures["examples_5xx"]
    assert report.wrong_acceptances == [], figures["examples_wrong"]
    assert sqlite_server.tracebacks() == 0, sqlite_server.logs()[-3000:]


def test_no_configured_secret_in_the_database_or_the_logs(sqlite_server: Deployment) -> None:
    """Runs after the load and fuzz tests of this module (same server): nothing they sent leaked."""
    found = scan.scan(stack.SECRETS, database_url=sqlite_server.database_url,
                      logs=[r.log_path for r in sqlite_server.replicas])
    assert found["places_searched"] > 5 and found["found"] == []


def test_the_turn_id_runs_from_the_reply_through_the_log_to_the_database(sqlite_server: Deployment) -> None:
    import time

    import httpx
    from sqlalchemy import create_engine, text

    response = httpx.post(sqlite_server.urls[0] + "/api/v1/messages", timeout=60,
                          json={"user": "turn-id-check", "text": "How do I connect to the VPN?"},
                          headers={"Authorization": f"Bearer {stack.API_TOKEN}"})
    turn_id = response.json()["turn_id"]
    assert turn_id
    deadline = time.monotonic() + 10
    while f"turn={turn_id[:12]}" not in sqlite_server.logs() and time.monotonic() < deadline:
        time.sleep(0.2)
    lines = [line for line in sqlite_server.logs().splitlines() if f"turn={turn_id[:12]}" in line]
    assert any("turn done" in line and "channel=http" in line for line in lines), lines
    engine = create_engine(sqlite_server.database_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT user_key FROM analytics_event WHERE turn_id = :t"), {"t": turn_id}).all()
        said = conn.execute(text("SELECT count(*) FROM transcript WHERE turn_id = :t"), {"t": turn_id}).scalar_one()
    engine.dispose()
    assert [r.user_key for r in stored] == ["http:turn-id-check"] and said == 2
