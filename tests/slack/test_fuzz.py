"""Fuzzed signed payloads (Hypothesis) through the real route: no 5xx, no traceback, no wrong acceptance.

Each example takes one of Slack's example payloads (a DM, a mention, App Home,
a click on one of the bot's buttons, the ticket modal's submission, the slash
command) and replaces or deletes a few fields with arbitrary JSON. A few hundred
examples run here; the bench runs the big numbers.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.slack.blocks import encode_value
from tests.slack.conftest import SlackStack, example, unique_event
from tests.slack.fake_slack import FakeSlack

pytestmark = pytest.mark.slow

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
                    | st.text(max_size=12), lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=5)
SERIAL = itertools.count(1)  # each example is a new press / submission (a replay would be deduplicated)
FUZZ = settings(max_examples=110, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


def paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            found += paths(value, (*prefix, index))
    return found


def _fits(parent: Any, step: Any) -> bool:
    """Whether ``step`` can index ``parent`` (an earlier mutation may have turned a dict into a list, or back)."""
    if isinstance(parent, dict):
        return isinstance(step, str)
    return isinstance(parent, list) and isinstance(step, int) and step < len(parent)


def mutate(payload: dict[str, Any], path: tuple[Any, ...], value: Any, delete: bool) -> dict[str, Any]:
    out = json.loads(json.dumps(payload))
    parent = out
    for step in path[:-1]:
        if not _fits(parent, step) or (isinstance(parent, dict) and step not in parent):
            return out  # an earlier mutation replaced this branch
        parent = parent[step]
    if not _fits(parent, path[-1]):
        return out
    if delete and isinstance(parent, dict):
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = value
    return out


def click_base() -> dict[str, Any]:
    payload = json.loads(json.dumps(example("block_actions.json")))
    payload["actions"][0].update(action_id="hd.0.answer.feedback", action_ts=f"1700000000.{next(SERIAL):06d}",
                                 value=encode_value(
        "answer.feedback", {"helpful": True, "article_id": "vpn-setup", "question": "vpn drops", "user": "W999"}))
    return payload


def submission_base() -> dict[str, Any]:
    payload = json.loads(json.dumps(example("view_submission.json")))
    payload["view"].update(hash=f"fuzz-{next(SERIAL)}", callback_id="helpdesk.ticket",
                           private_metadata='{"submit":"ticket.submit"}', state={
        "values": {"summary": {"value": {"type": "plain_text_input", "value": "Fuzzed printer"}},
                   "urgency": {"value": {"type": "static_select", "selected_option": {"value": "low"}}}}})
    return payload


def home_base() -> dict[str, Any]:
    payload = unique_event(example("app_mention.json"))
    payload["event"] = {"type": "app_home_opened", "user": "W222", "channel": "D0LAN2Q65", "tab": "home",
                        "event_ts": "1515449522000016"}
    return payload


EVENT_BASES = [lambda: unique_event(example("message_im.json"), text="fuzz hello"),
               lambda: unique_event(example("app_mention.json"), text="<@UBOTHELP1> fuzz vpn"), home_base]


def mutations(base: dict[str, Any]) -> st.SearchStrategy[list[tuple[tuple[Any, ...], Any, bool]]]:
    return st.lists(st.tuples(st.sampled_from(paths(base)), JSON, st.booleans()), min_size=1, max_size=3)


class Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.seen.append(f"{record.name}: {record.getMessage()[:200]}")


@pytest.fixture
def tracebacks() -> Iterator[Tracebacks]:
    handler = Tracebacks()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def text_of(value: Any) -> str | None:
    return value if isinstance(value, str) else None


ANSWERED: dict[str, int] = {}


def check(stack: SlackStack, payload: dict[str, Any], response: Any, since: int, tracebacks: Tracebacks) -> None:
    """No 5xx, no traceback; whatever the bot sent went only to the payload's own user and places."""
    assert response.status_code < 500, payload
    kind = str(payload.get("type"))
    ANSWERED[kind] = ANSWERED.get(kind, 0) + (len(stack.fake.calls) > since)
    assert tracebacks.seen == [], tracebacks.seen
    fake: FakeSlack = stack.fake
    event = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    user = payload.get("user")
    actor = text_of(user.get("id")) if isinstance(user, dict) else text_of(event.get("user"))
    container = payload.get("container") if isinstance(payload.get("container"), dict) else {}
    channel = payload.get("channel") if isinstance(payload.get("channel"), dict) else {}
    places = {text_of(event.get("channel")), text_of(container.get("channel_id")), text_of(channel.get("id"))}
    for call in fake.calls[since:]:
        if call.method == "chat.postEphemeral":
            assert call.args["user"] == actor, (payload, call.args)
        if call.method in ("chat.postEphemeral", "chat.postMessage", "chat.update"):
            assert call.args["channel"] in places | {fake.dm_of(str(actor))}, (payload, call.args)
        if call.method == "views.publish":
            assert call.args["user_id"] == actor
        if call.method == "views.open":
            assert call.args["trigger_id"] == payload.get("trigger_id")
        assert call.method != "response_url" or call.args.get("response_type") == "ephemeral"


@FUZZ
@given(data=st.data())
def test_fuzzed_events(slack_stack: SlackStack, tracebacks: Tracebacks, data: st.DataObject) -> None:
    base = data.draw(st.sampled_from(EVENT_BASES))()
    payload = base
    for path, value, delete in data.draw(mutations(base)):
        payload = mutate(payload, path, value, delete)
    since = len(slack_stack.fake.calls)
    check(slack_stack, payload, slack_stack.event(payload), since, tracebacks)


@FUZZ
@given(data=st.data())
def test_fuzzed_clicks(slack_stack: SlackStack, tracebacks: Tracebacks, data: st.DataObject) -> None:
    payload = base = click_base()
    for path, value, delete in data.draw(mutations(base)):
        payload = mutate(payload, path, value, delete)
    since = len(slack_stack.fake.calls)
    check(slack_stack, payload, slack_stack.interactive(payload), since, tracebacks)


@FUZZ
@given(data=st.data())
def test_fuzzed_submissions(slack_stack: SlackStack, tracebacks: Tracebacks, data: st.DataObject) -> None:
    payload = base = submission_base()
    for path, value, delete in data.draw(mutations(base)):
        payload = mutate(payload, path, value, delete)
    since = len(slack_stack.fake.calls)
    check(slack_stack, payload, slack_stack.interactive(payload), since, tracebacks)


def test_the_fuzzing_reached_the_engine() -> None:
    """Many fuzzed payloads were still answered (the checks above are not only about refusals)."""
    assert ANSWERED.get("event_callback", 0) >= 20 and ANSWERED.get("block_actions", 0) >= 20, ANSWERED
    assert ANSWERED.get("view_submission", 0) >= 10, ANSWERED
