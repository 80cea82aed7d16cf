"""Notifications reach Slack exactly once, even when a worker dies between Slack's answer and marking the row sent.

Through the spec-validating fake Slack: every outbox post carries message metadata
naming its row; a row whose worker died is taken over "in doubt", and the next
worker looks for that metadata in the conversation before posting again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bench.harness.proxy import TcpProxy
from bench.harness.stack import PYTHON, ROOT, SLACK_SPEC, clean_env, write_config
from bot.channels.slack.adapter import build_slack_adapter
from bot.channels.slack.outbox_once import EVENT_TYPE
from bot.messages import Reply
from bot.notify import deliver_pending, enqueue
from bot.services import Services
from bot.storage.models import Notification
from tests.slack.fake_slack import FakeSlack

TOKEN = "xoxb-outbox-once-test"
SIGNING_SECRET = "outbox-once-signing-secret-0001"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    if not SLACK_SPEC.exists():
        pytest.skip(f"{SLACK_SPEC} is absent: the shared specs folder is not beside the checkout")
    slack = FakeSlack(SLACK_SPEC).start()
    yield slack
    slack.stop()
    assert slack.violations == []


def posted(fake: FakeSlack) -> Counter[str]:
    return Counter(str(c.args.get("text")) for c in fake.calls_to("chat.postMessage", ok_only=True))


def statuses(services_db: Any) -> list[str]:
    with services_db.session() as session:
        return list(session.scalars(select(Notification.status).order_by(Notification.id)))


class Died(BaseException):
    """The replica died (kill -9): nothing after the send runs, not even exception handlers."""


def test_rows_sent_before_a_crash_are_not_posted_again_and_the_rest_are_posted_once(
        fake: FakeSlack, migrated_db: Any, make_settings: Any, database_url: str) -> None:
    settings = make_settings(database_url, slack={"bot_token": TOKEN, "signing_secret": SIGNING_SECRET,
                                                  "api_base_url": fake.base_url})
    services = Services(settings, db=migrated_db)
    adapter = build_slack_adapter(services)
    real = services.channel_senders["slack"]
    with services.db.session() as session:
        enqueue(session, user_key="slack:U0NOTE001", reply=Reply(text="Your ticket IT-41 was resolved."))
        enqueue(session, user_key="slack:C0TRIAGE1", reply=Reply(text="New ticket IT-42."))

    def dies_after_sending(user_key: str, reply: Reply) -> None:
        real(user_key, reply)  # Slack has it and answered 200 ...
        raise Died()           # ... and the process is gone before the row is marked sent

    services.channel_senders["slack"] = dies_after_sending
    with pytest.raises(Died):
        deliver_pending(services, lease_seconds=0)  # both rows claimed; the first one posted
    assert posted(fake) == {"Your ticket IT-41 was resolved.": 1}
    assert statuses(services.db) == ["sending", "sending"]

    services.channel_senders["slack"] = real  # another worker, once the lease has run out
    deliver_pending(services)
    assert posted(fake) == {"Your ticket IT-41 was resolved.": 1, "New ticket IT-42.": 1}
    assert statuses(services.db) == ["sent", "sent"]
    looked = [c.args["channel"] for c in fake.calls_to("conversations.history", ok_only=True)]
    assert looked == [fake.dm_of("U0NOTE001"), "C0TRIAGE1"]  # each row in doubt was looked up first
    stamps = [c.args["metadata"] for c in fake.calls_to("chat.postMessage", ok_only=True)]
    assert [s["event_type"] for s in stamps] == [EVENT_TYPE, EVENT_TYPE]
    assert len({s["event_payload"]["ref"] for s in stamps}) == 2
    adapter.shutdown()


def test_a_row_is_not_posted_while_slack_cannot_say_whether_it_already_was(
        fake: FakeSlack, migrated_db: Any, make_settings: Any, database_url: str) -> None:
    settings = make_settings(database_url, slack={"bot_token": TOKEN, "signing_secret": SIGNING_SECRET,
                                                  "api_base_url": fake.base_url})
    services = Services(settings, db=migrated_db)
    adapter = build_slack_adapter(services)
    with services.db.session() as session:
        enqueue(session, user_key="slack:C0TRIAGE1", reply=Reply(text="New ticket IT-43."))
    fake.fail_next("chat.postMessage", error="internal_error")  # attempt 1 fails: it may have landed
    assert deliver_pending(services) == 0
    with services.db.session() as session:
        session.execute(Notification.__table__.update().values(next_attempt_at=Notification.created_at))
    fake.fail_next("conversations.history", error="internal_error")  # Slack cannot be read: wait
    assert deliver_pending(services) == 0
    assert posted(fake) == {} and statuses(services.db) == ["pending"]
    with services.db.session() as session:
        session.execute(Notification.__table__.update().values(next_attempt_at=Notification.created_at))
    assert deliver_pending(services) == 1  # readable again, not there: posted, once
    assert posted(fake) == {"New ticket IT-43.": 1}
    adapter.shutdown()


def _worker(tmp: Path, name: str, database_url: str, slack_url: str) -> subprocess.Popen[bytes]:
    config = write_config(tmp / f"{name}.toml", {
        "database": {"url": database_url},
        "paths": {"data_dir": str(ROOT / "data"), "models_dir": str(tmp / "models"), "var_dir": str(tmp / name)},
        "kb": {"articles_dir": str(ROOT / "data" / "kb")},
        "slack": {"bot_token": f"{TOKEN}-{name}", "signing_secret": SIGNING_SECRET, "api_base_url": slack_url,
                  "socket_mode_in_server": False}})
    log = open(tmp / f"{name}.log", "wb")  # noqa: SIM115 - the child owns it
    process = subprocess.Popen([PYTHON, "-m", "bench.harness.outbox_worker", str(config), "--lease", "2"],
                               cwd=ROOT, env=clean_env(), stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return process


def _wait(what: Any, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


@pytest.fixture
def replica_db(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """The database replicas share: PostgreSQL when configured (the replica mode), else a SQLite file."""
    from bot.storage import migrate
    from bot.storage.session import Database
    from tests.conftest import PG_URL, _pg_database

    urls = _pg_database(PG_URL) if PG_URL else iter([f"sqlite:///{tmp_path / 'replicas.db'}"])
    url = next(urls)
    db = Database(url)
    migrate.upgrade(db)
    yield url, db
    db.dispose()
    for _ in urls:  # drops the PostgreSQL database
        pass


@pytest.mark.slow
def test_two_worker_processes_one_killed_after_slack_took_the_post_each_row_is_posted_once(
        fake: FakeSlack, replica_db: tuple[str, Any], tmp_path: Path) -> None:
    """kill -9 of the worker whose post Slack has taken but whose answer it never got."""
    database_url, migrated_db = replica_db
    port = int(fake.base_url.split(":")[2].split("/")[0])
    proxy = TcpProxy("127.0.0.1", port)  # the workers reach Slack through it; hold() withholds answers
    workers = {name: _worker(tmp_path, name, database_url, f"http://127.0.0.1:{proxy.port}/api/")
               for name in ("a", "b")}
    try:
        _wait(lambda: all("worker ready" in (tmp_path / f"{n}.log").read_text() for n in workers))
        proxy.hold()
        with migrated_db.session() as session:
            enqueue(session, user_key="slack:C0TRIAGE1", reply=Reply(text="New ticket IT-44 (urgent)."))
        _wait(lambda: bool(fake.calls_to("chat.postMessage", ok_only=True)))  # Slack took it ...
        holder = fake.calls_to("chat.postMessage")[0].token
        victim = "a" if holder == f"{TOKEN}-a" else "b"
        os.kill(workers[victim].pid, signal.SIGKILL)  # ... and its sender dies before hearing so
        workers[victim].wait()
        proxy.release()
        _wait(lambda: statuses(migrated_db) == ["sent"])
        assert posted(fake) == {"New ticket IT-44 (urgent).": 1}
        survivor = f"{TOKEN}-{'b' if victim == 'a' else 'a'}"
        assert [c.token for c in fake.calls_to("conversations.history", ok_only=True)] == [survivor]
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
        proxy.close()
