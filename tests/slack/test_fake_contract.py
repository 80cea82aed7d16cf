"""The fake Slack rejects what the real Slack would: proof that the contract tests can fail."""

from __future__ import annotations

import json

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.slack.conftest import APP_TOKEN, BOT_TOKEN
from tests.slack.fake_slack import FakeSlack

AUTH = {"Authorization": f"Bearer {BOT_TOKEN}"}


def take_violations(fake: FakeSlack) -> list[str]:
    found = list(fake.violations)
    fake.violations.clear()
    return found


def test_unknown_method_is_a_violation(fake_slack: FakeSlack) -> None:
    r = httpx.post(fake_slack.base_url + "chat.postMessagez", data={"channel": "C1", "text": "x"}, headers=AUTH)
    assert r.status_code == 404
    assert take_violations(fake_slack) == ["unknown method chat.postMessagez"]


def test_missing_required_argument_is_a_violation(fake_slack: FakeSlack) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    with pytest.raises(SlackApiError):
        client.api_call("chat.postEphemeral", json={"channel": "C123456789", "text": "hi"})  # no user
    assert take_violations(fake_slack) == ["chat.postEphemeral: missing required argument 'user'"]


def test_malformed_json_body_is_a_violation(fake_slack: FakeSlack) -> None:
    r = httpx.post(fake_slack.base_url + "chat.postMessage", content=b'{"channel": "C1", "text":',
                   headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 400
    problems = take_violations(fake_slack)
    assert len(problems) == 1 and "malformed JSON body" in problems[0]


def test_unknown_argument_wrong_type_and_missing_token_are_violations(fake_slack: FakeSlack) -> None:
    httpx.post(fake_slack.base_url + "chat.postMessage",
               json={"channel": "C123456789", "text": "x", "mrkdwn": "yes", "colour": "red"}, headers=AUTH)
    httpx.post(fake_slack.base_url + "auth.test", data={})
    problems = take_violations(fake_slack)
    assert any("unknown argument 'colour'" in p for p in problems)
    assert any("'mrkdwn' should be boolean" in p for p in problems)
    assert any(p.startswith("auth.test: missing or wrong token") for p in problems)


def test_override_layer_views_are_post_and_json_only_where_the_sdk_sends_it(fake_slack: FakeSlack) -> None:
    view = json.dumps({"type": "home", "blocks": []})
    httpx.get(fake_slack.base_url + "views.publish", params={"user_id": "U123", "view": view}, headers=AUTH)
    httpx.post(fake_slack.base_url + "conversations.open", json={"users": "U123"}, headers=AUTH)
    problems = take_violations(fake_slack)
    assert any("views.publish: HTTP GET not allowed" in p for p in problems)
    assert any("conversations.open: JSON body not accepted" in p for p in problems)


def test_apps_connections_open_needs_the_app_level_token(fake_slack: FakeSlack) -> None:
    fake_slack.socket_url = "ws://127.0.0.1:1/link"
    assert WebClient(base_url=fake_slack.base_url).apps_connections_open(app_token=APP_TOKEN)["url"]
    with pytest.raises(SlackApiError):
        WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url).api_call("apps.connections.open")
    assert take_violations(fake_slack) == ["apps.connections.open: missing or wrong token (needs xapp-…)"]
    fake_slack.socket_url = None


def test_block_kit_limits_are_enforced_by_the_fake(fake_slack: FakeSlack) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url)
    too_many = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C123456789", text="x", blocks=too_many)
    long_button = [{"type": "actions", "elements": [{"type": "button", "action_id": "a",
                                                     "text": {"type": "plain_text", "text": "b" * 76}}]}]
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C123456789", text="x", blocks=long_button)
    problems = take_violations(fake_slack)
    assert any("51 blocks (max 50" in p for p in problems)
    assert any("76 chars (max 75)" in p for p in problems)


def test_scripted_rate_limit_and_error(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("auth.test", status=429, retry_after=7)
    fake_slack.fail_next("auth.test", error="invalid_auth")
    first = httpx.post(fake_slack.base_url + "auth.test", headers=AUTH)
    second = httpx.post(fake_slack.base_url + "auth.test", headers=AUTH)
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert second.json() == {"ok": False, "error": "invalid_auth"}
    assert httpx.post(fake_slack.base_url + "auth.test", headers=AUTH).json()["ok"] is True
