"""Two bot replicas on one database receive the same Slack event: it is answered once."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from slack_bolt.request import BoltRequest

from bot.channels.slack.adapter import SlackAdapter, build_slack_adapter
from bot.services import Services
from bot.storage import migrate
from tests.slack.conftest import build_settings, example, sign, unique_event, warm_up
from tests.slack.fake_slack import FakeSlack

pytestmark = pytest.mark.slow


def test_two_replicas_answer_a_redelivered_event_once(fake_slack: FakeSlack, database_url: str, tmp_path: Path,
                                                      models_dir: Path) -> None:
    replicas: list[SlackAdapter] = []
    databases = []
    for n in range(2):
        folder = tmp_path / f"replica{n}"
        folder.mkdir()
        services = Services(build_settings(folder, database_url, fake_slack, models=models_dir))
        if n == 0:
            migrate.upgrade(services.db)
        warm_up(services)
        replicas.append(build_slack_adapter(services))
        databases.append(services.db)
    body = json.dumps(unique_event(example("message_im.json"), text="hello"))
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def deliver(adapter: SlackAdapter) -> None:
        request = BoltRequest(body=body, headers={"content-type": "application/json", **{
            k.lower(): v for k, v in sign(body).items()}})
        barrier.wait()
        statuses.append(adapter.app.dispatch(request).status)

    threads = [threading.Thread(target=deliver, args=(a,)) for a in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for adapter, db in zip(replicas, databases, strict=True):
        assert adapter.wait_idle(180)
        adapter.shutdown()
        db.dispose()
    assert statuses == [200, 200]
    posts = fake_slack.calls_to("chat.postMessage", ok_only=True)
    assert len(posts) == 1 and posts[0].args["channel"] == "D024BE91L"
