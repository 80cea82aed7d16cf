"""The assistant panel end to end: signed events as Slack sends them, every Web API call checked by the fake.

Thread started → greeting + four suggested prompts; context changed → stored in our
database; a question in the thread → status set, title, an answer with Slack's native
👍/👎, status cleared; a 👎 click → the same rating the Helpful / Not helpful buttons store.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.slack.assistant import CHECKING_ACCOUNT, PROMPTS, SEARCHING, status_for
from bot.channels.slack.assistant_models import SlackAssistantThread
from bot.channels.slack.blocks import decode_value
from tests.slack.conftest import EMPLOYEE_DM, SlackStack, example, unique_event

pytestmark = pytest.mark.slow
DM = "D024BE91L"  # message_im.json's channel


def thread_event(kind: str, thread_ts: str, *, context_channel: str = "C111") -> dict[str, Any]:
    """``assistant_thread_started`` / ``_context_changed`` shaped as docs.slack.dev/reference/events shows them."""
    return {"token": "x", "team_id": "T111", "api_app_id": "A111", "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:10].upper(), "event_time": 1729999327,
            "event": {"type": kind, "event_ts": thread_ts,
                      "assistant_thread": {"user_id": EMPLOYEE_DM, "channel_id": DM, "thread_ts": thread_ts,
                                           "context": {"channel_id": context_channel, "team_id": "T111",
                                                       "enterprise_id": "E111"}}}}


def new_thread(stack: SlackStack) -> str:
    thread_ts = f"1729999327.{uuid.uuid4().int % 10**6:06d}"
    assert stack.event(thread_event("assistant_thread_started", thread_ts)).status_code == 200
    return thread_ts


def ask(stack: SlackStack, thread_ts: str, text: str) -> dict[str, Any]:
    payload = unique_event(example("message_im.json"), text=text, thread_ts=thread_ts,
                           ts=f"1729999400.{uuid.uuid4().int % 10**6:06d}")
    assert stack.event(payload).status_code == 200
    return payload


def statuses(stack: SlackStack, thread_ts: str) -> list[str]:
    return [c.args["status"] for c in stack.fake.calls_to("assistant.threads.setStatus", ok_only=True)
            if c.args["thread_ts"] == thread_ts]


def test_thread_start_greets_and_suggests_four_prompts_once(slack_stack: SlackStack) -> None:
    started = thread_event("assistant_thread_started", "1729999327.000001")
    slack_stack.event(started)
    slack_stack.event(started)  # Slack redelivers: nothing twice
    [greeting] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert greeting.args["channel"] == DM and greeting.args["thread_ts"] == "1729999327.000001"
    assert "IT helpdesk" in greeting.args["text"]
    [prompts] = slack_stack.fake.calls_to("assistant.threads.setSuggestedPrompts", ok_only=True)
    assert [p["title"] for p in prompts.args["prompts"]] == [title for title, _ in PROMPTS] == [
        "I'm locked out", "My tickets", "VPN isn't working", "Request software"]


def test_context_change_is_kept_in_our_database(slack_stack: SlackStack) -> None:
    thread_ts = new_thread(slack_stack)
    slack_stack.event(thread_event("assistant_thread_context_changed", thread_ts, context_channel="C999"))
    with slack_stack.services.db.session() as session:
        row = session.scalars(select(SlackAssistantThread).where(SlackAssistantThread.thread_ts == thread_ts)).one()
        assert row.context == {"channel_id": "C999", "team_id": "T111", "enterprise_id": "E111"}
        assert row.user_id == EMPLOYEE_DM
    # no message metadata was written for it (bolt's default store would have)
    assert not any("metadata" in c.args for c in slack_stack.fake.calls_to("chat.postMessage"))


def test_question_in_the_thread_shows_status_gets_title_and_native_feedback(slack_stack: SlackStack) -> None:
    thread_ts = new_thread(slack_stack)
    slack_stack.fake.reset()
    question = ask(slack_stack, thread_ts, "how do I connect to the VPN?")
    slack_stack.event(question)  # Slack's retry of the same message: answered once
    assert statuses(slack_stack, thread_ts) == [SEARCHING, ""]  # set while the turn runs, then cleared
    [title] = slack_stack.fake.calls_to("assistant.threads.setTitle", ok_only=True)
    assert title.args["title"] == "how do I connect to the VPN?" and title.args["thread_ts"] == thread_ts
    [answer] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert answer.args["thread_ts"] == thread_ts and answer.args["channel"] == DM
    blocks = answer.args["blocks"]
    [feedback] = [b for b in blocks if b["type"] == "context_actions"]
    element = feedback["elements"][0]
    assert element["type"] == "feedback_buttons"
    positive = decode_value(element["positive_button"]["value"])
    assert positive is not None and positive.value["helpful"] is True
    flat = json.dumps([b for b in blocks if b["type"] == "actions"])
    assert "answer.feedback" not in flat  # the Helpful / Not helpful buttons are replaced, not doubled
    # a second question: the title stays the first one
    slack_stack.fake.reset()
    ask(slack_stack, thread_ts, "I'm locked out of my account")
    assert not slack_stack.fake.calls_to("assistant.threads.setTitle")
    assert statuses(slack_stack, thread_ts) == [CHECKING_ACCOUNT, ""]


def test_native_thumbs_down_stores_the_same_rating_and_retires_the_buttons(slack_stack: SlackStack) -> None:
    from knowledge_base.models import KbRating

    thread_ts = new_thread(slack_stack)
    slack_stack.fake.reset()
    ask(slack_stack, thread_ts, "how do I connect to the VPN?")
    [answer] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    element = next(b for b in answer.args["blocks"] if b["type"] == "context_actions")["elements"][0]
    # the block_actions payload Slack sends for a feedback_buttons click (the chosen half's value)
    click = json.loads(json.dumps(example("block_actions.json")))
    click["user"] = {"id": EMPLOYEE_DM, "username": "sam", "name": "sam", "team_id": "T111"}
    click["container"] = {"type": "message", "message_ts": answer.response["ts"], "channel_id": DM,
                          "is_ephemeral": False, "thread_ts": thread_ts}
    click["channel"] = {"id": DM, "name": "directmessage"}
    click["message"] = {"type": "message", "ts": answer.response["ts"], "thread_ts": thread_ts,
                        "text": answer.args["text"], "blocks": answer.args["blocks"]}
    click["actions"] = [{"type": "feedback_buttons", "action_id": element["action_id"], "block_id": "hd_feedback",
                         "value": element["negative_button"]["value"], "action_ts": "1729999500.000001",
                         "text": element["negative_button"]["text"]}]
    slack_stack.fake.reset()
    assert slack_stack.interactive(click).status_code == 200
    slack_stack.interactive(click)  # a replay: one rating
    with slack_stack.services.db.session() as session:
        ratings = list(session.scalars(select(KbRating).where(KbRating.user_key == f"slack:{EMPLOYEE_DM}")
                                       .order_by(KbRating.id)))
    assert [(r.helpful, r.question) for r in ratings][-1:] == [(False, "how do I connect to the VPN?")]
    assert len([r for r in ratings if r.question == "how do I connect to the VPN?" and not r.helpful]) == 1
    [updated] = slack_stack.fake.calls_to("chat.update", ok_only=True)
    assert not any(b["type"] == "context_actions" for b in updated.args["blocks"])  # no second vote
    [thanks] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert thanks.args["thread_ts"] == thread_ts


def test_plain_dm_thread_is_not_a_panel_thread(slack_stack: SlackStack) -> None:
    ask(slack_stack, "1355517523.777777", "how do I connect to the VPN?")
    assert not slack_stack.fake.calls_to("assistant.threads.setStatus")
    [answer] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert not any(b["type"] == "context_actions" for b in answer.args["blocks"])


def test_status_follows_the_route() -> None:
    assert status_for("I forgot my password") == CHECKING_ACCOUNT
    assert status_for("printer is jammed") == SEARCHING


def test_fake_rejects_malformed_assistant_calls(slack_stack: SlackStack) -> None:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from tests.slack.conftest import BOT_TOKEN

    client = WebClient(token=BOT_TOKEN, base_url=slack_stack.fake.base_url)
    prompts = [{"title": f"p{i}", "message": f"m{i}"} for i in range(5)]
    bad = [lambda: client.assistant_threads_setSuggestedPrompts(channel_id=DM, thread_ts="1.2", prompts=prompts),
           lambda: client.api_call("assistant.threads.setStatus", json={"channel_id": DM, "status": "x"}),
           lambda: client.assistant_threads_setTitle(channel_id=DM, thread_ts="", title="t")]
    for call in bad:
        with pytest.raises(SlackApiError):
            call()
    found = list(slack_stack.fake.violations)
    slack_stack.fake.violations.clear()  # expected here; the contract fixture would fail the test on them
    assert any("prompts must be a list of 1..4" in v for v in found)
    assert any("missing required argument 'thread_ts'" in v for v in found)
    assert any("thread_ts is empty" in v for v in found)


def test_manifest_has_the_panel_shortcuts_and_reaction_event() -> None:
    from bot.channels.slack.shortcuts import ASK_CALLBACK, TICKET_CALLBACK
    from bot.cli.slack import manifest

    data = manifest("https://helpdesk.acme.test")
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    assert {"assistant:write", "reactions:read", "chat:write", "im:history", "channels:history"} <= scopes
    events = set(data["settings"]["event_subscriptions"]["bot_events"])
    assert {"assistant_thread_started", "assistant_thread_context_changed", "message.im", "reaction_added"} <= events
    assert data["features"]["assistant_view"]["assistant_description"]
    shortcuts = {s["callback_id"]: s for s in data["features"]["shortcuts"]}
    assert set(shortcuts) == {ASK_CALLBACK, TICKET_CALLBACK}
    assert all(s["type"] == "message" and len(s["name"]) <= 24 for s in shortcuts.values())


def test_thread_start_acked_before_a_crash_is_greeted_once_by_the_recovery(slack_stack: SlackStack) -> None:
    import datetime as dt

    from bot.channels.slack.models import SlackProcessedEvent

    adapter = slack_stack.adapter
    started = thread_event("assistant_thread_started", f"1729999327.{uuid.uuid4().int % 10**6:06d}")
    adapter.work.submit = lambda *args, **kw: None  # the replica dies at once
    try:
        assert slack_stack.event(started).status_code == 200  # acknowledged…
    finally:
        del adapter.work.submit
    assert not slack_stack.fake.calls_to("chat.postMessage")  # …but nobody greeted
    with slack_stack.services.db.session() as session:
        row = session.get(SlackProcessedEvent, started["event_id"])
        assert row is not None and row.state == "pending" and row.kind == "as_start"  # recorded before the ack
        row.claimed_at = row.claimed_at - dt.timedelta(seconds=adapter.settings.event_lease_seconds + 1)
    assert adapter.recover_once() == 1
    assert adapter.wait_idle(60)
    slack_stack.event(started)  # Slack's retry of the same event
    assert adapter.recover_once() == 0
    [greeting] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert greeting.args["thread_ts"] == started["event"]["assistant_thread"]["thread_ts"]
    assert len(slack_stack.fake.calls_to("assistant.threads.setSuggestedPrompts", ok_only=True)) == 1


def test_feedback_pair_renders_as_native_buttons_or_falls_back() -> None:
    from bot.channels.slack.blocks import render_reply
    from bot.messages import Button, Outcome, Reply
    from tests.slack.blockkit import check_message

    value = {"article_id": "vpn-setup", "question": "vpn?"}
    reply = Reply(text="Open the VPN client.", outcome=Outcome.ANSWERED,
                  buttons=[Button("Helpful", "answer.feedback", {**value, "helpful": True}),
                           Button("Not helpful", "answer.feedback", {**value, "helpful": False}),
                           Button("Open a ticket", "ticket.open", {"summary": "vpn?"})])
    text, native = render_reply(reply, native_feedback=True)
    _, classic = render_reply(reply)
    assert check_message({"text": text, "blocks": native}) == [] == check_message({"text": text, "blocks": classic})
    assert [b["type"] for b in native][-2:] == ["actions", "context_actions"]
    assert len(native[-2]["elements"]) == 1  # only "Open a ticket" stays a button
    assert not any(b["type"] == "context_actions" for b in classic)
    assert len([e for b in classic if b["type"] == "actions" for e in b["elements"]]) == 3
