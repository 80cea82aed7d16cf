"""Socket Mode: apps.connections.open → WebSocket URL → envelopes → acks drive the same listeners.

The app is the real server (bot.server.create_app) with slack.app_token set: its
lifespan connects Socket Mode, exactly as `helpdesk serve` does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.channels.slack.blocks import encode_value
from tests.slack.conftest import (
    APP_TOKEN,
    CLICKER,
    EMPLOYEE,
    SlackStack,
    example,
    open_stack,
    unique_event,
)
from tests.slack.fake_slack import FakeSlack
from tests.slack.fake_socket import FakeSocketMode

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def socket_stack(fake_slack: FakeSlack, socket_server: FakeSocketMode, models_dir: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackStack]:
    fake_slack.socket_url = socket_server.url
    try:
        yield from open_stack(tmp_path_factory.mktemp("slack-socket"), fake_slack, models_dir,
                              app_token=APP_TOKEN, socket_mode_in_server=True)
    finally:
        fake_slack.socket_url = None


def envelope(kind: str, payload: dict[str, Any], *, accepts: bool = False, **extra: Any) -> dict[str, Any]:
    return {"envelope_id": str(uuid.uuid4()), "type": kind, "payload": payload,
            "accepts_response_payload": accepts, **extra}


def deliver(stack: SlackStack, server: FakeSocketMode, env: dict[str, Any]) -> dict[str, Any]:
    assert server.wait_connected(), "the app never connected"
    server.push(env)
    ack = server.wait_ack(env["envelope_id"], timeout=30)
    assert ack is not None, "envelope not acknowledged"
    assert stack.adapter.wait_idle(180)
    return ack


def test_connects_with_the_app_level_token(socket_stack: SlackStack, socket_server: FakeSocketMode) -> None:
    assert socket_server.wait_connected()
    assert socket_server.violations == []


def test_mention_envelope_is_acked_and_answered_in_thread(socket_stack: SlackStack,
                                                           socket_server: FakeSocketMode) -> None:
    payload = unique_event(example("app_mention.json"), text="<@UBOTHELP1> how do I connect to the VPN?")
    deliver(socket_stack, socket_server, envelope("events_api", payload, retry_attempt=0))
    posts = socket_stack.fake.calls_to("chat.postMessage", ok_only=True) + \
        socket_stack.fake.calls_to("chat.postEphemeral", ok_only=True)
    assert len(posts) == 1 and posts[0].args["thread_ts"] == payload["event"]["ts"]
    assert socket_server.violations == []


def test_redelivered_dm_envelope_is_answered_once(socket_stack: SlackStack, socket_server: FakeSocketMode) -> None:
    payload = unique_event(example("message_im.json"), text="my wifi keeps dropping")
    for attempt in range(3):
        deliver(socket_stack, socket_server,
                envelope("events_api", payload, retry_attempt=attempt, retry_reason="timeout" if attempt else ""))
    posts = socket_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert [p.args["channel"] for p in posts] == ["D024BE91L"]


def test_slash_command_envelope_answers_ephemerally(socket_stack: SlackStack,
                                                    socket_server: FakeSocketMode) -> None:
    template = json.loads(json.dumps(example("socket_mode_envelopes.json")[1]))  # the slash_commands envelope
    template["payload"].update(command="/helpdesk", text="how do I reset my password", user_id="U111")
    template["envelope_id"] = str(uuid.uuid4())
    ack = deliver(socket_stack, socket_server, template)
    assert not ack["ack"].get("payload")  # nothing shown in the channel by the ack itself
    [eph] = socket_stack.fake.calls_to("chat.postEphemeral", ok_only=True)
    assert eph.args["user"] == "U111" and eph.args["channel"] == "C111"
    assert socket_stack.fake.calls_to("chat.postMessage") == []


def test_button_and_modal_envelopes_create_the_ticket_flow(socket_stack: SlackStack,
                                                           socket_server: FakeSocketMode) -> None:
    click = json.loads(json.dumps(example("block_actions.json")))
    click["actions"][0].update(action_id="hd.2.ticket.open",
                               value=encode_value("ticket.open", {"summary": "Monitor flickers"}))
    deliver(socket_stack, socket_server, envelope("interactive", click))
    [opened] = socket_stack.fake.calls_to("views.open", ok_only=True)
    view = opened.args["view"]
    assert view["blocks"][0]["element"]["initial_value"] == "Monitor flickers"

    submission = json.loads(json.dumps(example("view_submission.json")))
    submission["view"].update(callback_id=view["callback_id"], private_metadata=view["private_metadata"], state={
        "values": {"summary": {"value": {"type": "plain_text_input", "value": "Monitor flickers"}},
                   "details": {"value": {"type": "plain_text_input", "value": "Dell U2720Q, since Monday"}},
                   "urgency": {"value": {"type": "static_select", "selected_option": {"value": "normal"}}}}})
    deliver(socket_stack, socket_server, envelope("interactive", submission))
    posts = socket_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert [p.args["channel"] for p in posts] == [socket_stack.fake.dm_of(CLICKER)]


def test_app_home_envelope_publishes_the_view(socket_stack: SlackStack, socket_server: FakeSocketMode) -> None:
    payload = unique_event(example("app_mention.json"))
    payload["event"] = {"type": "app_home_opened", "user": EMPLOYEE, "channel": "D0LAN2Q65", "tab": "home",
                        "event_ts": "1515449522000016"}
    deliver(socket_stack, socket_server, envelope("events_api", payload))
    [published] = socket_stack.fake.calls_to("views.publish", ok_only=True)
    assert published.args["user_id"] == EMPLOYEE and published.args["view"]["type"] == "home"


def test_server_still_serves_http_when_socket_mode_cannot_connect(
        fake_slack: FakeSlack, models_dir: Path, tmp_path: Path) -> None:
    fake_slack.socket_url = "ws://127.0.0.1:9/link/"  # nothing listens there
    fake_slack.fail_next("apps.connections.open", error="invalid_auth")
    stack_iter = open_stack(tmp_path, fake_slack, models_dir, app_token=APP_TOKEN, socket_mode_in_server=True)
    stack = next(stack_iter)
    try:
        payload = unique_event(example("app_mention.json"), text="<@UBOTHELP1> hello")
        assert stack.event(payload).status_code == 200
        assert len(stack.fake.calls_to("chat.postMessage", ok_only=True)) == 1
    finally:
        fake_slack.socket_url = None
        stack_iter.close()
