"""An acknowledged Slack delivery is recorded before the ack and answered once: after a crash, on
another replica, when the turn fails (the employee is told) and when the database is away."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.request import BoltRequest
from sqlalchemy import select, update

from bot.channels.slack import texts
from bot.channels.slack.adapter import SlackAdapter, build_slack_adapter
from bot.channels.slack.models import SlackProcessedEvent
from bot.messages import Message, Reply
from bot.services import Services
from bot.storage import migrate
from tests.conftest import DB_BACKENDS, PG_URL, _pg_database
from tests.slack.conftest import build_settings, example, sign, unique_event, warm_up
from tests.slack.fake_slack import FakeSlack

pytestmark = pytest.mark.slow


class Killed(BaseException):
    """The process died in the middle of the turn (nothing after this line runs)."""


@pytest.fixture(scope="module", params=DB_BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per backend for the module (each test uses its own users and events)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('inbox') / 'helpdesk.db'}"
    else:
        yield from _pg_database(PG_URL)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def services(fake_slack: FakeSlack, database: str, tmp_path_factory: pytest.TempPathFactory,
             models_dir: Path) -> Iterator[Services]:
    """The migrated database's services; each replica is its own adapter (own claims, pools, queues)."""
    built = Services(build_settings(tmp_path_factory.mktemp("inbox-services"), database, fake_slack,
                                    models=models_dir))
    migrate.upgrade(built.db)
    warm_up(built)
    yield built
    built.db.dispose()


def deliver(adapter: SlackAdapter, payload: dict[str, Any]) -> int:
    body = json.dumps(payload)
    headers = {"content-type": "application/json", **{k.lower(): v for k, v in sign(body).items()}}
    return adapter.app.dispatch(BoltRequest(body=body, headers=headers)).status


def dm_from(user: str, text: str) -> dict[str, Any]:
    return unique_event(example("message_im.json"), user=user, text=text,
                        channel=FakeSlack.dm_of(user))


def rows(services: Services, keys: list[str]) -> dict[str, str]:
    with services.db.session() as session:
        return {r.event_id: r.state for r in session.scalars(select(SlackProcessedEvent)
                                                             .where(SlackProcessedEvent.event_id.in_(keys)))}


def time_passes(services: Services, seconds: float) -> None:
    """Move every claim back in time (as if ``seconds`` had passed without a renewal)."""
    with services.db.session() as session:
        for row in session.scalars(select(SlackProcessedEvent).where(SlackProcessedEvent.claimed_at.is_not(None))):
            row.claimed_at = row.claimed_at - dt.timedelta(seconds=seconds)


def dms_to(fake: FakeSlack, user: str) -> list[str]:
    return [c.args["text"] for c in fake.calls_to("chat.postMessage", ok_only=True)
            if c.args["channel"] == fake.dm_of(user)]


def crash_with_pending(services: Services, users: list[str]) -> list[str]:
    """A replica acks one DM per user, then dies inside every turn; the event ids."""
    dying = build_slack_adapter(services)

    def die(message: Message) -> Reply:
        raise Killed()

    dying.turns.engine.handle = die  # type: ignore[method-assign]
    keys = []
    for n, user in enumerate(users):
        payload = dm_from(user, f"my laptop will not boot ({n})")
        assert deliver(dying, payload) == 200  # acknowledged
        keys.append(payload["event_id"])
    dying.wait_idle(60)
    dying.executor.shutdown(wait=False)
    dying.work_pool.shutdown(wait=False)
    return keys


def test_an_event_acknowledged_before_a_crash_is_answered_once_after_the_restart(
        fake_slack: FakeSlack, services: Services) -> None:
    users = ["U0CRASH01", "U0CRASH02", "U0CRASH03"]
    for user in users:
        fake_slack.add_user(user, f"{user.lower()}@example.com", "Crash Test")
    keys = crash_with_pending(services, users)
    assert fake_slack.calls_to("chat.postMessage") == []  # the dead replica answered nobody
    assert sorted(rows(services, keys).values()) == ["pending"] * 3  # but it had recorded each before the ack

    restarted = build_slack_adapter(services)
    try:
        assert restarted.recover_once() == 0  # within the lease the work may still be running elsewhere
        time_passes(services, restarted.settings.event_lease_seconds + 1)
        assert restarted.recover_once() == 3
        assert restarted.wait_idle(180)
        for user in users:
            assert len(dms_to(fake_slack, user)) == 1, f"{user} is answered exactly once"
        assert sorted(rows(services, keys).values()) == ["done"] * 3
        time_passes(services, 3600)
        assert restarted.recover_once() == 0  # nothing is answered twice
        with services.db.session() as session:  # and nothing the employee typed stays behind
            assert [r.job for r in session.scalars(select(SlackProcessedEvent)
                                                   .where(SlackProcessedEvent.event_id.in_(keys)))] == [None] * 3
    finally:
        restarted.shutdown()
    assert sum(len(dms_to(fake_slack, u)) for u in users) == 3


def test_two_replicas_share_the_pending_events_and_answer_each_once(
        fake_slack: FakeSlack, services: Services, database: str, tmp_path: Path, models_dir: Path) -> None:
    users = [f"U0SHARE{n:02d}" for n in range(10)]
    for user in users:
        fake_slack.add_user(user, f"{user.lower()}@example.com", "Share Test")
    crash_with_pending(services, users)
    time_passes(services, 3600)
    # the second survivor has its own connection pool on the same database, as a second process would
    (tmp_path / "other").mkdir()
    other = Services(build_settings(tmp_path / "other", database, fake_slack, models=models_dir),
                     encoder=services.encoder)
    survivors = [(build_slack_adapter(services), services), (build_slack_adapter(other), other)]
    barrier = threading.Barrier(2)
    taken: list[int] = []

    def recover(adapter: SlackAdapter) -> None:
        barrier.wait()
        taken.append(adapter.recover_once())

    threads = [threading.Thread(target=recover, args=(a,)) for a, _ in survivors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        for adapter, _ in survivors:
            assert adapter.wait_idle(180)
        assert sum(taken) == len(users)
        assert {u: len(dms_to(fake_slack, u)) for u in users} == {u: 1 for u in users}
    finally:
        for adapter, _ in survivors:
            adapter.shutdown()
        other.db.dispose()


def test_a_failing_turn_is_never_silence(fake_slack: FakeSlack, services: Services) -> None:
    adapter = build_slack_adapter(services)

    def broken(message: Message) -> Reply:
        raise RuntimeError("a bug in a flow")

    adapter.turns.engine.handle = broken  # type: ignore[method-assign]
    try:
        payload = dm_from("U0FAIL001", "vpn is broken")
        fake_slack.add_user("U0FAIL001", "fail@example.com", "Fail Test")
        assert deliver(adapter, payload) == 200
        assert adapter.wait_idle(60)
        assert dms_to(fake_slack, "U0FAIL001") == [texts.COULD_NOT_PROCESS]
        assert rows(services, [payload["event_id"]]) == {payload["event_id"]: "failed"}
        time_passes(services, 3600)
        assert adapter.recover_once() == 0  # told once; not retried behind the employee's back
    finally:
        adapter.shutdown()


def test_with_the_database_down_the_employee_is_told(fake_slack: FakeSlack, tmp_path: Path,
                                                      models_dir: Path) -> None:
    fake_slack.add_user("U0DBDOWN1", "down@example.com", "Down Test")
    services = Services(build_settings(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:9/none", fake_slack,
                                       models=models_dir))
    adapter = build_slack_adapter(services)
    try:
        assert deliver(adapter, dm_from("U0DBDOWN1", "my password expired")) == 200
        assert adapter.wait_idle(60)
        assert dms_to(fake_slack, "U0DBDOWN1") == [texts.COULD_NOT_PROCESS]
    finally:
        adapter.shutdown()
        services.db.dispose()


def test_a_delivery_that_keeps_killing_its_replica_is_given_up_and_the_employee_told(
        fake_slack: FakeSlack, services: Services) -> None:
    fake_slack.add_user("U0POISON1", "poison@example.com", "Poison Test")
    keys = crash_with_pending(services, ["U0POISON1"])
    with services.db.session() as session:
        session.execute(update(SlackProcessedEvent).where(SlackProcessedEvent.event_id.in_(keys)).values(attempts=3))
    time_passes(services, 3600)
    survivor = build_slack_adapter(services)
    try:
        assert survivor.recover_once() == 1
        assert survivor.wait_idle(60)
        assert dms_to(fake_slack, "U0POISON1") == [texts.COULD_NOT_PROCESS]
        assert list(rows(services, keys).values()) == ["failed"]
    finally:
        survivor.shutdown()
