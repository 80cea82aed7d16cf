"""Slack fixtures: the validating fake Web API, the app mounted on the real FastAPI server, signing."""

from __future__ import annotations

import json
import os
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, shared_path
from tests.slack.fake_slack import FakeSlack
from tests.slack.fake_socket import FakeSocketMode

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-0000-helpdesk"
APP_TOKEN = "xapp-1-test-helpdesk"
EMPLOYEE = "W222"          # app_mention.json's author
EMPLOYEE_DM = "U2147483697"  # message_im.json's author
CLICKER = "W111"           # block_actions / view_submission / slash_command author


def example(name: str) -> Any:
    path = shared_path("specs", "slack", "examples", name)
    return json.loads(path.read_text()) if name.endswith(".json") else path.read_text().strip()


def unique_event(payload: dict[str, Any], **event: Any) -> dict[str, Any]:
    """A copy of an Events API payload with a fresh event_id (and event fields overridden)."""
    payload = json.loads(json.dumps(payload))
    payload["event_id"] = "Ev" + uuid.uuid4().hex[:10].upper()
    payload["event"].update(event)
    return payload


def sign(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    from slack_sdk.signature import SignatureVerifier

    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)}


def form_payload(payload: dict[str, Any]) -> str:
    """Interactivity bodies are ``payload=<urlencoded JSON>`` (as in block_actions.form-urlencoded.txt)."""
    return "payload=" + urllib.parse.quote(json.dumps(payload))


@dataclass
class SlackStack:
    fake: FakeSlack
    services: Any
    adapter: Any
    client: Any  # starlette TestClient on bot.server.create_app

    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None,
             wait: bool = True) -> Any:
        hdrs = {"Content-Type": content_type, **sign(body), **(headers or {})}
        response = self.client.post("/slack/events", content=body.encode(), headers=hdrs)
        if wait:
            assert self.adapter.wait_idle(180), "listeners did not finish"
        return response

    def event(self, payload: dict[str, Any], **kw: Any) -> Any:
        return self.post(json.dumps(payload), "application/json", **kw)

    def interactive(self, payload: dict[str, Any], **kw: Any) -> Any:
        return self.post(form_payload(payload), "application/x-www-form-urlencoded", **kw)

    def command(self, fields: dict[str, str], **kw: Any) -> Any:
        return self.post(urllib.parse.urlencode(fields), "application/x-www-form-urlencoded", **kw)


@pytest.fixture(scope="session")
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(shared_path("specs", "slack", "slack_web_openapi_v2.json")).start()
    for uid, email, name in [(EMPLOYEE, "dana.lee@example.com", "Dana Lee"),
                             (EMPLOYEE_DM, "sam.ortiz@example.com", "Sam Ortiz"),
                             (CLICKER, "alex.kim@example.com", "Alex Kim"),
                             ("U111", "uma.chen@example.com", "Uma Chen")]:
        fake.add_user(uid, email, name)
    fake.add_user("UOTHERBOT", None, "Other Bot", is_bot=True)
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _contract(request: pytest.FixtureRequest) -> Iterator[None]:
    """Any call the bot made that the real Slack would reject fails the test."""
    if "fake_slack" not in request.fixturenames:
        yield
        return
    fake: FakeSlack = request.getfixturevalue("fake_slack")
    if "slack_stack" in request.fixturenames:
        request.getfixturevalue("slack_stack")
    earlier = list(fake.violations)  # e.g. apps.connections.open during a module fixture's set-up
    fake.reset()
    assert not earlier, "Slack contract violations during set-up:\n" + "\n".join(earlier)
    yield
    if "slack_stack" in request.fixturenames:
        request.getfixturevalue("slack_stack").adapter.wait_idle(180)
    violations = list(fake.violations)
    fake.reset()
    assert not violations, "Slack contract violations:\n" + "\n".join(violations)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trained-model folder for the whole Slack suite (the intent model trains once)."""
    return tmp_path_factory.mktemp("slack-models")


def build_settings(tmp: Path, database_url: str, fake: FakeSlack, *, models: Path | None = None,
                   **slack: Any) -> Any:
    from bot.config import load_settings

    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    empty = tmp / "helpdesk.toml"
    empty.touch()
    values = {
        "database": {"url": database_url},
        "paths": {"data_dir": str(ROOT / "data"), "models_dir": str(models or tmp / "models"),
                  "var_dir": str(tmp / "var")},
        "kb": {"articles_dir": str(ROOT / "data" / "kb")},
        "server": {"run_workers": False},
        "slack": {"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET, "api_base_url": fake.base_url,
                  "socket_mode_in_server": False, "turns_per_minute": 1000, **slack},
    }
    return load_settings(empty, environ=env, **values)


def open_stack(tmp: Path, fake: FakeSlack, models: Path, **slack: Any) -> Iterator[SlackStack]:
    from starlette.testclient import TestClient

    from bot.server import create_app
    from bot.services import Services
    from bot.storage import migrate
    from bot.web.slack import slack_adapter

    settings = build_settings(tmp, f"sqlite:///{tmp / 'helpdesk.db'}", fake, models=models, **slack)
    services = Services(settings)
    migrate.upgrade(services.db)
    warm_up(services)
    app = create_app(services, start_workers=False)
    with TestClient(app) as client:
        yield SlackStack(fake=fake, services=services, adapter=slack_adapter(app), client=client)
    services.db.dispose()


def warm_up(services: Any) -> None:
    """Import the bundled KB up front, so no test's first turn pays for the import."""
    try:
        kb = services.kb
    except Exception:  # the knowledge base is not built in this checkout
        return
    bootstrap = getattr(kb, "bootstrap", None)
    if bootstrap is not None:
        bootstrap()


@pytest.fixture(scope="module")
def slack_stack(fake_slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory,
                models_dir: Path) -> Iterator[SlackStack]:
    """One app + Services (+ encoder) per test module, on a fresh migrated SQLite database."""
    yield from open_stack(tmp_path_factory.mktemp("slack"), fake_slack, models_dir)


@pytest.fixture(scope="module")
def socket_server() -> Iterator[FakeSocketMode]:
    """A fake Socket Mode endpoint (one per test module), checking every frame the app sends."""
    server = FakeSocketMode().start()
    yield server
    server.stop()
