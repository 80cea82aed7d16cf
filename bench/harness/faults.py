"""Fault runs: kill -9 of a replica under load, the database cut and restored, Slack events delivered 3×."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bench.harness.load import LoadResult, check_turns, last_reply_text, replies_in, run_load, sign, slack_event
from bench.harness.proxy import TcpProxy
from bench.harness.runs import Deployment, deployment, summarize
from bench.harness.stack import via_port


def _load_in_thread(urls: list[str], **kw: Any) -> tuple[threading.Thread, list[LoadResult]]:
    box: list[LoadResult] = []
    thread = threading.Thread(target=lambda: box.append(run_load(urls, **kw)), daemon=True)
    thread.start()
    return thread, box


def queue_notifications(database_url: str, fake: Any, count: int) -> list[str]:
    """``count`` outbox notifications to Slack users (as the ticket notices queue them); their texts."""
    from bot.messages import Reply
    from bot.notify import enqueue
    from bot.storage.session import Database

    db = Database(database_url)
    texts = []
    try:
        with db.session() as session:
            for n in range(count):
                uid = f"UNOTE{n:05d}"
                fake.add_user(uid, f"note{n}@example.com", f"Note User {n}")
                said = f"Your ticket IT-{9000 + n} was updated (outbox row {n})."
                enqueue(session, user_key=f"slack:{uid}", reply=Reply(text=said), dedupe_key=f"bench-{n}")
                texts.append(said)
    finally:
        db.dispose()
    return texts


def outbox_report(database_url: str, fake: Any, texts: list[str], wait: float) -> dict[str, Any]:
    """Wait until the notification outbox is drained (or ``wait`` passes); each row's deliveries counted."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + wait
    pending = -1
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            pending = conn.execute(text(
                "SELECT count(*) FROM notification WHERE status IN ('pending', 'sending')")).scalar_one()
        if pending == 0:
            break
        time.sleep(1.0)
    engine.dispose()
    with fake._lock:
        posted = Counter(str(c.args.get("text", "")) for c in fake.calls
                         if c.method == "chat.postMessage" and c.response.get("ok"))
    deliveries = [posted.get(t, 0) for t in texts]
    return {"outbox_rows": len(texts), "outbox_pending_left": pending,
            "outbox_delivered_once": sum(d == 1 for d in deliveries),
            "outbox_delivered_twice_or_more": sum(d > 1 for d in deliveries),
            "outbox_never_delivered": sum(d == 0 for d in deliveries)}


def kill9_run(folder: Path, *, models_dir: Path, pg_url: str | None, backend: str = "postgresql",
              http_users: int = 20, slack_users: int = 10, seconds: float = 40.0, notifications: int = 200,
              outbox_wait: float = 200.0) -> dict[str, Any]:
    """Two replicas under load; replica1 is killed -9 half-way and restarted 3 s later."""
    with deployment(folder, backend=backend, replicas=2, models_dir=models_dir, pg_url=pg_url) as dep:
        thread, box = _load_in_thread(dep.urls, http_users=http_users, slack_users=slack_users, seconds=seconds,
                                      fake=dep.fake, reply_wait=90.0)
        time.sleep(seconds / 2 - 1)
        texts = queue_notifications(dep.database_url, dep.fake, notifications)  # in flight when the kill comes
        time.sleep(1.0)
        victim = dep.replicas[1]
        victim.kill()
        killed_at = time.monotonic()
        time.sleep(3)
        victim.start()
        restarted_after = round(time.monotonic() - killed_at, 1)
        thread.join()
        result = box[0]
        time.sleep(2.0)
        problems = check_turns(dep.database_url, result)
        figures = summarize(result, problems, dep)
        figures.update(outbox_report(dep.database_url, dep.fake, texts, outbox_wait))
        figures["restart_seconds"] = restarted_after
        figures["slack_contract_violations"] = len(dep.fake.violations)
        return figures


def db_outage_run(folder: Path, *, models_dir: Path, pg_url: str, http_users: int = 10, seconds: float = 30.0,
                  outage: float = 6.0) -> dict[str, Any]:
    """One replica reaching PostgreSQL through a TCP proxy that is cut for ``outage`` seconds mid-run."""
    from sqlalchemy.engine import make_url

    from bench.harness.stack import scratch_database

    with scratch_database("postgresql", folder, pg_url) as real_url:
        target = make_url(real_url)
        proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
        try:
            with deployment(folder, backend="sqlite", replicas=1, models_dir=models_dir, pg_url=None,
                            slack=False, database_url=via_port(real_url, proxy.port)) as dep:
                thread, box = _load_in_thread(dep.urls, http_users=http_users, seconds=seconds)
                time.sleep(seconds / 3)
                proxy.cut()
                time.sleep(1.0)
                during = httpx.get(dep.urls[0] + "/readyz", timeout=30)
                time.sleep(max(0.0, outage - 1.0))
                proxy.restore()
                restored_at = time.monotonic()
                time.sleep(2.0)
                after = httpx.get(dep.urls[0] + "/readyz", timeout=30)
                thread.join()
                result = box[0]
                problems = check_turns(real_url, result)
                figures = summarize(result, problems, dep)
                accepted = result.accepted
                figures.update({"readyz_during_outage": during.status_code,
                                "readyz_body_names_no_host": str(target.host) not in during.text
                                and str(target.port) not in during.text,
                                "readyz_after": after.status_code, "accepted_total": len(accepted),
                                "accepted_after_outage": sum(s.at > restored_at for s in accepted)})
                return figures
        finally:
            proxy.close()


def triple_delivery_run(folder: Path, *, models_dir: Path, pg_url: str | None, backend: str, replicas: int,
                        events: int = 20) -> dict[str, Any]:
    """Each event delivered 3× (plain, then X-Slack-Retry-Num 1 and 2), spread over the replicas → 1 reply each."""
    with deployment(folder, backend=backend, replicas=replicas, models_dir=models_dir, pg_url=pg_url) as dep:
        return deliver_three_times(dep, events)


def deliver_three_times(dep: Deployment, events: int, prefix: str = "UTRIPLE") -> dict[str, Any]:
    """``events`` new DM events, each POSTed 3× at once (the copies spread over the replicas); replies counted."""
    channels = []
    threads = []
    with httpx.Client(timeout=60) as client:
        for n in range(events):
            uid = f"{prefix}{n:04d}"
            dep.fake.add_user(uid, f"{uid.lower()}@example.com", f"Triple {n}")
            channel = dep.fake.dm_of(uid)
            channels.append(channel)
            body = json.dumps(slack_event(uid, channel, "How do I connect to the VPN?"))
            for attempt in range(3):
                retry = {} if attempt == 0 else {"X-Slack-Retry-Num": str(attempt),
                                                 "X-Slack-Retry-Reason": "http_timeout"}
                url = dep.urls[(n + attempt) % len(dep.urls)]
                headers = {"Content-Type": "application/json", **sign(body), **retry}
                threads.append(threading.Thread(target=client.post, args=(url + "/slack/events",),
                                                kwargs={"content": body.encode(), "headers": headers}))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(replies_in(dep.fake, c) == 0 for c in channels):
        time.sleep(0.5)
    time.sleep(3.0)  # a late duplicate would show up here
    replies = [replies_in(dep.fake, c) for c in channels]
    return {"events": events, "deliveries": events * 3, "replicas": len(dep.replicas),
            "events_answered_once": sum(r == 1 for r in replies),
            "events_answered_twice_or_more": sum(r > 1 for r in replies),
            "events_unanswered": sum(r == 0 for r in replies),
            "refusals": sum(last_reply_text(dep.fake, c).startswith("I couldn't save") for c in channels),
            "server_tracebacks": dep.tracebacks(), "slack_contract_violations": len(dep.fake.violations)}
