"""/slack/events under bad input: size first, signature before parsing, no bodies in the logs, no 5xx for
wrongly typed payloads, capped text, replayed clicks run once, credentials never in the DM history, the
modal's submit allowlist and the per-user turn rate."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.slack import texts
from bot.channels.slack.blocks import encode_value
from bot.messages import Message, Outcome, Reply
from bot.storage.models import TranscriptEntry
from tests.slack.conftest import CLICKER, SlackStack, example, form_payload, sign, unique_event

pytestmark = pytest.mark.slow
MARKER = "BODY-MARKER-7f3a9c"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG, logger="bot.channels.slack.bolt"), caplog.at_level(logging.INFO):
        yield caplog


def tracebacks(logs: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()[:200]}" for r in logs.records if r.exc_info]


def posted(stack: SlackStack) -> list[Any]:
    return [c for c in stack.fake.calls if c.method.startswith(("chat.", "views.")) or c.method == "response_url"]


def said_by(stack: SlackStack, user_key: str) -> list[str]:
    with stack.services.db.session() as session:
        return list(session.scalars(select(TranscriptEntry.text).where(TranscriptEntry.user_key == user_key,
                                                                       TranscriptEntry.speaker == "user")
                                    .order_by(TranscriptEntry.id)))


def raw_post(stack: SlackStack, body: bytes, headers: dict[str, str]) -> Any:
    response = stack.client.post("/slack/events", content=body, headers=headers)
    assert stack.adapter.wait_idle(60)
    return response


# --- Finding 5: size, signature before parsing, no bodies in the logs ----------------------------
def test_a_body_over_the_slack_cap_is_refused_before_it_is_read(slack_stack: SlackStack, logs: Any) -> None:
    cap = slack_stack.services.settings.slack.max_request_kb * 1024
    body = json.dumps({"type": "event_callback", "text": MARKER * ((cap // len(MARKER)) + 10)}).encode()
    assert cap < len(body) < 1024 * 1024  # under the server-wide limit, over Slack's
    response = raw_post(slack_stack, body, {"Content-Type": "application/json", **sign(body.decode())})
    assert response.status_code == 413

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(cap // 65536 + 2):
            yield b"x" * 65536

    assert slack_stack.client.post("/slack/events", content=chunked(),
                                   headers={"Content-Type": "application/json"}).status_code == 413
    assert MARKER not in logs.text and posted(slack_stack) == []


@pytest.mark.parametrize("body", [
    json.dumps({"type": "event_callback", "event": {"type": "message", "text": MARKER}}).encode(),
    b"[" * 100_000,                      # would be a RecursionError when parsed
    b"payload=" + b"%5B" * 50_000,        # the same, form-encoded
    b"\xff\xfe" + MARKER.encode(),       # not UTF-8
])
def test_an_unsigned_body_is_refused_unparsed_and_unlogged(slack_stack: SlackStack, logs: Any, body: bytes) -> None:
    response = raw_post(slack_stack, body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "1",
                                            "X-Slack-Signature": "v0=" + "0" * 64})
    assert response.status_code == 401
    assert MARKER not in logs.text and tracebacks(logs) == []
    assert posted(slack_stack) == []


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "-5", " 17", "9" * 40])
def test_a_timestamp_that_is_not_a_number_is_a_bad_signature(slack_stack: SlackStack, logs: Any,
                                                             timestamp: str) -> None:
    body = json.dumps(unique_event(example("message_im.json")))
    headers = {"Content-Type": "application/json", **sign(body)}
    response = slack_stack.client.post("/slack/events", content=body.encode(),
                                       headers={**headers, "X-Slack-Request-Timestamp": timestamp})
    assert response.status_code == 401 and tracebacks(logs) == []


def test_message_text_is_capped_before_the_engine(slack_stack: SlackStack) -> None:
    payload = unique_event(example("message_im.json"), text="printer " * 6000, user="U0LONGTXT",
                           channel="D0LONGTXT1")
    slack_stack.fake.add_user("U0LONGTXT", "long@example.com", "Long Text")
    assert slack_stack.event(payload).status_code == 200
    [said] = said_by(slack_stack, "slack:U0LONGTXT")
    assert 0 < len(said) <= 4000


# --- Finding 7: wrongly typed payloads ------------------------------------------------------------
def _event(**changes: Any) -> dict[str, Any]:
    payload = unique_event(example("message_im.json"), text="hello")
    for key, value in changes.items():
        if key.startswith("event_"):
            payload["event"][key.removeprefix("event_")] = value
        else:
            payload[key] = value
    return payload


WRONG_EVENTS = [
    _event(type=5), _event(event_type=5), _event(event_type=None), _event(event=[1, 2]), _event(event="x"),
    _event(event_id=5), _event(event_user=5), _event(event_user={"id": "U1"}), _event(event_text=["a"]),
    _event(event_channel=7), _event(event_channel_type=1), _event(event_thread_ts=[]), _event(event_subtype=[]),
    _event(event_bot_id=0), _event(team_id=[]), _event(authorizations="x"), _event(authorizations=[5]),
    _event(event_text="\ud800 lone surrogate \x00 nul"), _event(enterprise_id={"a": 1}),
    _event(is_ext_shared_channel=True, event="x"),
]


@pytest.mark.parametrize("payload", WRONG_EVENTS, ids=range(len(WRONG_EVENTS)))
def test_a_signed_event_of_the_wrong_shape_is_a_4xx_or_a_quiet_ignore(slack_stack: SlackStack, logs: Any,
                                                                     payload: dict[str, Any]) -> None:
    response = slack_stack.event(payload)
    assert response.status_code < 500
    assert tracebacks(logs) == []


def _click(**changes: Any) -> dict[str, Any]:
    payload = json.loads(json.dumps(example("block_actions.json")))
    payload["actions"][0].update(action_id="hd.0.router.choose",
                                 value=encode_value("router.choose", {"intent": "bot_capabilities", "text": "x"}))
    payload.update(changes)
    return payload


WRONG_CLICKS = [
    _click(user="W111"), _click(user={"id": 5}), _click(actions="x"), _click(actions=[5]), _click(actions=[]),
    _click(container=5), _click(container={"channel_id": 5, "is_ephemeral": "yes"}), _click(channel=[]),
    _click(message=5), _click(message={"ts": 5, "blocks": "x"}), _click(team=5), _click(trigger_id=5),
    _click(response_url=5), _click(type=5), _click(view=5),
    {**_click(), "actions": [{"action_id": 5, "value": 5, "action_ts": []}]},
]


@pytest.mark.parametrize("payload", WRONG_CLICKS, ids=range(len(WRONG_CLICKS)))
def test_a_signed_click_of_the_wrong_shape_is_a_4xx_or_a_quiet_ignore(slack_stack: SlackStack, logs: Any,
                                                                     payload: dict[str, Any]) -> None:
    response = slack_stack.interactive(payload)
    assert response.status_code < 500
    assert tracebacks(logs) == []


def _submission(**view: Any) -> dict[str, Any]:
    payload = json.loads(json.dumps(example("view_submission.json")))
    payload["view"].update({"callback_id": "helpdesk.ticket", **view})
    return payload


WRONG_SUBMISSIONS = [
    _submission(state=5), _submission(state={"values": 5}), _submission(state={"values": {"summary": 5}}),
    _submission(state={"values": {"summary": {"value": {"type": "plain_text_input", "value": 5}}}}),
    _submission(state={"values": {"urgency": {"value": {"type": "static_select", "selected_option": 5}}}}),
    _submission(private_metadata=5), _submission(private_metadata="[" * 5000),
    _submission(private_metadata='{"submit": ["ticket.submit"]}'), _submission(callback_id=5),
    {**_submission(), "view": "x"}, {**_submission(), "user": 5},
]


@pytest.mark.parametrize("payload", WRONG_SUBMISSIONS, ids=range(len(WRONG_SUBMISSIONS)))
def test_a_signed_submission_of_the_wrong_shape_is_a_4xx_or_a_quiet_ignore(
        slack_stack: SlackStack, logs: Any, payload: dict[str, Any]) -> None:
    response = slack_stack.interactive(payload)
    assert response.status_code < 500
    assert tracebacks(logs) == []


# --- Finding 10: a replayed click runs once ---------------------------------------------------------
def test_a_replayed_button_press_runs_once(slack_stack: SlackStack) -> None:
    question = "replayed question about the vpn"
    payload = json.loads(json.dumps(example("block_actions.json")))
    payload["user"] = {"id": "U0REPLAY1", "username": "replay", "team_id": "T111"}
    payload["actions"][0].update(action_id="hd.0.answer.feedback", action_ts="1700000000.000111",
                                 value=encode_value("answer.feedback", {"helpful": True, "article_id": "vpn-setup",
                                                                        "question": question}))
    slack_stack.fake.add_user("U0REPLAY1", "replay@example.com", "Replay")
    body = form_payload(payload)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    for _ in range(3):  # the same signed request, three times within the replay window
        assert slack_stack.client.post("/slack/events", content=body.encode(), headers=headers).status_code == 200
    assert slack_stack.adapter.wait_idle(60)
    assert said_by(slack_stack, "slack:U0REPLAY1") == ["[answer.feedback]"]
    assert len(slack_stack.fake.calls_to("chat.postEphemeral", ok_only=True)) == 1
    payload["actions"][0]["action_ts"] = "1700000001.000222"  # a new press of the same button does run
    slack_stack.interactive(payload)
    assert said_by(slack_stack, "slack:U0REPLAY1") == ["[answer.feedback]"] * 2


# --- Finding 9: credentials from App Home or a modal; the submit allowlist ----------------------------
@pytest.fixture
def credential_replies(slack_stack: SlackStack) -> Iterator[list[Message]]:
    """The engine answers every button and submission with a one-time credential (as the account flow does)."""
    engine = slack_stack.adapter.turns.engine
    original = engine.handle
    seen: list[Message] = []

    def with_credential(message: Message) -> Reply:
        seen.append(message)
        reply = original(message)
        if message.action is not None:
            return Reply(text="Your one-time link: https://helpdesk.example.com/reset/Zk3-one-time",
                         outcome=Outcome.ACCOUNT_ACTION, private=True, sensitive=True, turn_id=reply.turn_id)
        return reply

    engine.handle = with_credential  # type: ignore[method-assign]
    yield seen
    engine.handle = original  # type: ignore[method-assign]


def test_a_credential_from_app_home_is_never_posted_into_the_dm_history(
        slack_stack: SlackStack, credential_replies: list[Message]) -> None:
    home_click = _click(container={"type": "view", "view_id": "V0HOME01"}, channel=None, message=None,
                        response_url=None)
    home_click["actions"][0]["action_ts"] = "1700000100.000001"
    slack_stack.interactive(home_click)
    assert credential_replies and credential_replies[-1].action is not None
    assert slack_stack.fake.calls_to("chat.postMessage") == []
    [shown] = slack_stack.fake.calls_to("chat.postEphemeral", ok_only=True)
    assert shown.args["channel"] == slack_stack.fake.dm_of(CLICKER) and shown.args["user"] == CLICKER
    assert "one-time" in shown.args["text"]


def test_a_credential_after_a_modal_submission_is_never_posted_into_the_dm_history(
        slack_stack: SlackStack, credential_replies: list[Message]) -> None:
    slack_stack.fake.fail_next("chat.postEphemeral", error="channel_not_found")  # and if Slack refuses that
    slack_stack.interactive(_submission(id="V0MODAL1", hash="h1"))
    texts_posted = [c.args["text"] for c in slack_stack.fake.calls_to("chat.postMessage", ok_only=True)]
    assert texts_posted == [texts.ASK_IN_DM]
    assert all("one-time" not in json.dumps(c.args) for c in slack_stack.fake.calls_to("chat.postMessage"))


def test_a_modal_submits_only_to_known_actions(slack_stack: SlackStack, credential_replies: list[Message]) -> None:
    metadata = json.dumps({"submit": "account.reset_link", "channel": None, "thread_ts": None})
    response = slack_stack.interactive(_submission(id="V0FORGED", hash="h2", private_metadata=metadata))
    assert response.status_code == 200
    assert [m.action for m in credential_replies] == []  # the engine was never asked
    assert posted(slack_stack) == []


# --- abuse limits: the per-user turn rate -----------------------------------------------------------
def test_a_flooding_user_is_told_to_slow_down_once_and_the_rest_is_not_run(slack_stack: SlackStack) -> None:
    limiter = slack_stack.adapter.intake.limiter
    limit, limiter.limit = limiter.limit, 3
    slack_stack.fake.add_user("U0FLOOD01", "flood@example.com", "Flood")
    try:
        for n in range(6):
            slack_stack.event(unique_event(example("message_im.json"), user="U0FLOOD01", channel="D0FLOOD001",
                                           text=f"hello there {n}"))
    finally:
        limiter.limit = limit
    sent = [c.args["text"] for c in slack_stack.fake.calls_to("chat.postMessage", ok_only=True)]
    assert len(said_by(slack_stack, "slack:U0FLOOD01")) == 3
    assert len(sent) == 4 and sum("faster than I can answer" in t for t in sent) == 1


@pytest.mark.parametrize("body", [
    {"type": None, "event_id": "", "team_id": "", "event": None},
    {"type": None},
    {"event": {"type": "message"}},
])
def test_a_signed_payload_without_a_type_is_refused_not_a_500(slack_stack, body) -> None:
    """Found by the production fuzzer: bolt's own 'unhandled request' warning crashed on these."""
    response = slack_stack.post(json.dumps(body), "application/json", wait=False)
    assert response.status_code == 400


def test_a_signed_form_payload_without_a_type_is_refused_not_a_500(slack_stack) -> None:
    payload = {"type": None, "user": None, "actions": [], "response_url": "https://evil.example.com/hook",
               "view": None}
    response = slack_stack.post(form_payload(payload), "application/x-www-form-urlencoded", wait=False)
    assert response.status_code == 400
    assert slack_stack.fake.calls_to("response_url") == []
