"""Signed requests built from Slack's real example payloads drive the app through the real FastAPI server.

Every Web API call the bot makes goes to the validating fake (tests/slack/fake_slack.py);
a call the real Slack would reject fails the test (see conftest._contract).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.slack.blocks import encode_value
from bot.storage.models import Notification, TranscriptEntry
from tests.slack.conftest import (
    CLICKER,
    EMPLOYEE,
    EMPLOYEE_DM,
    SlackStack,
    example,
    sign,
    unique_event,
)

pytestmark = pytest.mark.slow


def replies(stack: SlackStack) -> list[Any]:
    fake = stack.fake
    return fake.calls_to("chat.postMessage", ok_only=True) + fake.calls_to("chat.postEphemeral", ok_only=True)


def transcript(stack: SlackStack, user_key: str) -> list[TranscriptEntry]:
    with stack.services.db.session() as session:
        return list(session.scalars(select(TranscriptEntry).where(TranscriptEntry.user_key == user_key)
                                    .order_by(TranscriptEntry.id)))


def stored_ratings(stack: SlackStack, user_key: str) -> list[Any]:
    models = pytest.importorskip("knowledge_base.models", reason="the knowledge base is not in this checkout")
    with stack.services.db.session() as session:
        return list(session.scalars(select(models.KbRating).where(models.KbRating.user_key == user_key)
                                    .order_by(models.KbRating.id)))


def tickets_of(stack: SlackStack, user_key: str) -> list[Any]:
    models = pytest.importorskip("integrations.ticketing.models", reason="ticketing is not in this checkout")
    with stack.services.db.session() as session:
        return list(session.scalars(select(models.Ticket).where(models.Ticket.requester_user_key == user_key)
                                    .order_by(models.Ticket.id)))


def buttons_in(call: Any) -> list[dict[str, Any]]:
    return [e for b in call.args.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


def dm(text: str = "Hello hello can you hear me?", **event: Any) -> dict[str, Any]:
    return unique_event(example("message_im.json"), text=text, **event)


# --- the surfaces -------------------------------------------------------------
def test_url_verification_challenge_is_echoed(slack_stack: SlackStack) -> None:
    response = slack_stack.event({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                                  "type": "url_verification"})
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text


def test_mention_is_answered_in_its_thread(slack_stack: SlackStack) -> None:
    payload = unique_event(example("app_mention.json"), text="<@UBOTHELP1> how do I connect to the VPN?")
    response = slack_stack.event(payload)
    assert response.status_code == 200
    posts = replies(slack_stack)
    assert len(posts) == 1, "exactly one reply"
    post = posts[0]
    assert post.args["channel"] == "C111"
    assert post.args["thread_ts"] == payload["event"]["ts"]  # in the thread, never top-level
    assert post.args["text"] and post.args["blocks"]
    assert [c.args["user"] for c in slack_stack.fake.calls_to("users.info")] in ([EMPLOYEE], [])
    said = [t.text for t in transcript(slack_stack, f"slack:{EMPLOYEE}") if t.speaker == "user"]
    assert said[-1] == "how do I connect to the VPN?"  # the bot mention is stripped


def test_personal_answers_to_a_mention_are_shown_only_to_the_asker(slack_stack: SlackStack) -> None:
    for text in ("<@UBOTHELP1> please unlock my account", "<@UBOTHELP1> show me my tickets"):
        slack_stack.fake.reset()
        slack_stack.event(unique_event(example("app_mention.json"), text=text, user="W0PRIVATE"))
        assert slack_stack.fake.calls_to("chat.postMessage") == [], text  # nothing in the public channel
        [eph] = slack_stack.fake.calls_to("chat.postEphemeral", ok_only=True)
        assert eph.args["user"] == "W0PRIVATE" and eph.args["channel"] == "C111"


def test_mention_inside_a_thread_answers_in_that_thread(slack_stack: SlackStack) -> None:
    payload = unique_event(example("app_mention.json"), text="<@UBOTHELP1> same problem here, wifi is down",
                           ts="1595926999.000100", thread_ts="1595926000.000001")
    slack_stack.event(payload)
    [post] = replies(slack_stack)
    assert post.args["thread_ts"] == "1595926000.000001"


def test_ack_does_not_wait_for_the_engine(slack_stack: SlackStack) -> None:
    """The HTTP response (the ack) is sent while the answer is still being worked on."""
    from threading import Event

    gate = Event()
    engine = slack_stack.adapter.engine
    original = engine.handle

    def slow_handle(message):  # the real engine, held back until the ack has been seen
        gate.wait(30)
        return original(message)

    engine.handle = slow_handle
    burst = slack_stack.services.settings.slack.listener_threads + 4  # more turns than worker threads
    try:
        for i in range(burst):
            response = slack_stack.event(dm(f"is the wifi down? ({i})"), wait=False)
            assert response.status_code == 200, f"event {i} was not acknowledged"
        assert replies(slack_stack) == []  # all acked before any reply could exist
    finally:
        gate.set()
        assert slack_stack.adapter.wait_idle(180)
        engine.handle = original
    assert len(replies(slack_stack)) == burst
    # one employee's messages are handled one at a time, in the order they were sent
    said = [t.text for t in transcript(slack_stack, f"slack:{EMPLOYEE_DM}") if t.speaker == "user"]
    assert said[-burst:] == [f"is the wifi down? ({i})" for i in range(burst)]


def test_direct_message_is_answered_in_the_dm(slack_stack: SlackStack) -> None:
    payload = dm("my laptop won't connect to wifi")
    assert slack_stack.event(payload).status_code == 200
    posts = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert len(posts) == 1
    assert posts[0].args["channel"] == "D024BE91L"
    assert "thread_ts" not in posts[0].args
    rows = transcript(slack_stack, f"slack:{EMPLOYEE_DM}")
    assert rows and rows[-2].text == "my laptop won't connect to wifi"


def test_slash_command_answers_ephemerally(slack_stack: SlackStack) -> None:
    fields = {**example("slash_command.json"), "command": "/helpdesk", "text": "how do I set up MFA on my phone"}
    response = slack_stack.command(fields)
    assert response.status_code == 200
    ephemeral = slack_stack.fake.calls_to("chat.postEphemeral", ok_only=True)
    assert len(ephemeral) == 1
    assert ephemeral[0].args["user"] == CLICKER and ephemeral[0].args["channel"] == "C111"
    assert slack_stack.fake.calls_to("chat.postMessage") == []  # nothing public


def test_app_home_opened_publishes_the_home_view(slack_stack: SlackStack) -> None:
    payload = unique_event(example("app_mention.json"))
    payload["event"] = {"type": "app_home_opened", "user": EMPLOYEE, "channel": "D0LAN2Q65", "tab": "home",
                        "event_ts": "1515449522000016"}
    assert slack_stack.event(payload).status_code == 200
    published = slack_stack.fake.calls_to("views.publish", ok_only=True)
    assert len(published) == 1
    assert published[0].args["user_id"] == EMPLOYEE
    view = published[0].args["view"]
    assert view["type"] == "home"
    text = json.dumps(view)
    assert "Your open tickets" in text and "ticket.open" in text


def click(stack: SlackStack, action_id: str, value: dict[str, Any], **overrides: Any) -> Any:
    payload = json.loads(json.dumps(example("block_actions.json")))
    payload["actions"][0]["action_id"] = f"hd.0.{action_id}"
    payload["actions"][0]["value"] = encode_value(action_id, value)
    payload.update(overrides)
    return stack.interactive(payload)


def test_feedback_button_runs_the_engine_action(slack_stack: SlackStack) -> None:
    response = click(slack_stack, "answer.feedback",
                     {"helpful": False, "article_id": "vpn-setup", "question": "vpn keeps dropping"})
    assert response.status_code == 200
    said = [t.text for t in transcript(slack_stack, f"slack:{CLICKER}") if t.speaker == "user"]
    assert said[-1] == "[answer.feedback]"
    ratings = stored_ratings(slack_stack, f"slack:{CLICKER}")
    assert [(r.article_id, r.helpful, r.question) for r in ratings][-1:] == [
        ("vpn-setup", False, "vpn keeps dropping")]
    # the button was in an ephemeral message in C111: the acknowledgement stays private
    posted = slack_stack.fake.calls_to("chat.postEphemeral", ok_only=True)
    assert len(posted) == 1 and posted[0].args["user"] == CLICKER
    assert slack_stack.fake.calls_to("chat.postMessage") == []


def test_open_ticket_button_opens_a_prefilled_modal_and_submission_confirms_in_dm(slack_stack: SlackStack) -> None:
    click(slack_stack, "ticket.open", {"summary": "Printer on floor 3 jams every morning"})
    opened = slack_stack.fake.calls_to("views.open", ok_only=True)
    assert len(opened) == 1
    assert opened[0].args["trigger_id"] == "111.222.valid"
    view = opened[0].args["view"]
    assert view["callback_id"] == "helpdesk.ticket"
    assert view["blocks"][0]["element"]["initial_value"] == "Printer on floor 3 jams every morning"
    slack_stack.fake.reset()

    submission = json.loads(json.dumps(example("view_submission.json")))
    submission["view"].update({
        "callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
        "blocks": view["blocks"],
        "state": {"values": {
            "summary": {"value": {"type": "plain_text_input", "value": "Printer on floor 3 jams every morning"}},
            "details": {"value": {"type": "plain_text_input", "value": "HP LaserJet near the kitchen"}},
            "urgency": {"value": {"type": "static_select", "selected_option": {
                "text": {"type": "plain_text", "text": "High"}, "value": "high"}}},
        }},
    })
    response = slack_stack.interactive(submission)
    assert response.status_code == 200
    assert response.text in ("", "null")  # the modal closes
    opened_dm = slack_stack.fake.calls_to("conversations.open", ok_only=True)
    assert [c.args["users"] for c in opened_dm] in ([CLICKER], [])  # DM channel may be cached
    posts = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert len(posts) == 1 and posts[0].args["channel"] == slack_stack.fake.dm_of(CLICKER)
    said = [t.text for t in transcript(slack_stack, f"slack:{CLICKER}") if t.speaker == "user"]
    assert said[-1] == "[ticket.submit]"
    [ticket] = tickets_of(slack_stack, f"slack:{CLICKER}")
    assert ticket.summary == "Printer on floor 3 jams every morning" and ticket.urgency == "high"
    assert "HP LaserJet near the kitchen" in ticket.description
    assert ticket.requester_email == "alex.kim@example.com"  # from users.info, never typed
    assert ticket.key and ticket.key in json.dumps(posts[0].args)  # confirmed with the key in the DM


# --- negative paths -----------------------------------------------------------
def test_bad_signature_is_refused(slack_stack: SlackStack) -> None:
    body = json.dumps(dm())
    headers = {"Content-Type": "application/json", **sign(body, secret="not-the-secret")}
    response = slack_stack.client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    assert slack_stack.adapter.wait_idle(30)
    assert slack_stack.fake.calls == []


def test_stale_timestamp_is_refused(slack_stack: SlackStack) -> None:
    body = json.dumps(dm())
    headers = {"Content-Type": "application/json", **sign(body, timestamp=int(time.time()) - 60 * 6)}
    response = slack_stack.client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    assert slack_stack.adapter.wait_idle(30)
    assert slack_stack.fake.calls == []


def test_same_event_delivered_three_times_is_answered_once(slack_stack: SlackStack) -> None:
    payload = dm("where do I request software?")
    for attempt in range(3):
        retry = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"} if attempt else {}
        assert slack_stack.event(payload, headers=retry).status_code == 200
    assert len(slack_stack.fake.calls_to("chat.postMessage", ok_only=True)) == 1


def test_a_retry_whose_first_delivery_never_arrived_is_processed(slack_stack: SlackStack) -> None:
    payload = dm("is there an outage?")
    headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert slack_stack.event(payload, headers=headers).status_code == 200
    assert len(slack_stack.fake.calls_to("chat.postMessage", ok_only=True)) == 1


@pytest.mark.parametrize("event", [
    {"bot_id": "B0OTHER", "subtype": "bot_message", "user": None},
    {"bot_id": "B0OTHER", "user": "UOTHERBOT"},
    {"user": "UBOTHELP1"},  # the bot's own message
    {"subtype": "message_changed", "user": None,
     "message": {"type": "message", "user": EMPLOYEE_DM, "text": "edited"}},
    {"subtype": "message_deleted", "user": None, "deleted_ts": "1355517523.000005"},
    {"subtype": "channel_join"},
])
def test_bots_edits_and_deletions_are_ignored(slack_stack: SlackStack, event: dict[str, Any]) -> None:
    payload = dm("ignore me")
    payload["event"].update(event)
    payload["event"] = {k: v for k, v in payload["event"].items() if v is not None}
    assert slack_stack.event(payload).status_code == 200
    assert replies(slack_stack) == []
    assert slack_stack.fake.calls_to("users.info") == []


def test_rate_limited_twice_the_reply_is_still_delivered(slack_stack: SlackStack) -> None:
    slack_stack.fake.fail_next("chat.postMessage", status=429, retry_after=1, times=2)
    assert slack_stack.event(dm("how do I print double-sided?")).status_code == 200
    attempts = slack_stack.fake.calls_to("chat.postMessage")
    assert [c.status for c in attempts] == [429, 429, 200]
    assert attempts[1].at - attempts[0].at >= 0.95  # Retry-After honoured
    assert attempts[2].at - attempts[1].at >= 0.95
    assert attempts[2].response["ok"] is True


def test_slack_refusing_the_reply_parks_it_in_the_outbox(slack_stack: SlackStack) -> None:
    from bot.notify import deliver_pending

    slack_stack.fake.fail_next("chat.postMessage", error="channel_not_found")
    slack_stack.fake.fail_next("chat.postEphemeral", error="channel_not_found")
    payload = unique_event(example("app_mention.json"), text="<@UBOTHELP1> vpn help")
    assert slack_stack.event(payload).status_code == 200
    with slack_stack.services.db.session() as session:
        parked = session.scalars(select(Notification).where(Notification.user_key == f"slack:{EMPLOYEE}",
                                                            Notification.status == "pending")).all()
        assert len(parked) == 1
    slack_stack.fake.reset()
    assert deliver_pending(slack_stack.services) == 1  # the worker delivers it to the DM
    posts = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert len(posts) == 1 and posts[0].args["channel"] == slack_stack.fake.dm_of(EMPLOYEE)


# --- full round trips: the buttons the bot rendered, clicked back -------------------------
def test_answer_feedback_and_ticket_round_trip_from_a_dm(slack_stack: SlackStack) -> None:
    """DM a question → cited answer with buttons → "Not helpful" is stored → "Open a ticket" → modal → ticket."""
    from bot.channels.slack.blocks import decode_value

    slack_stack.event(dm("how do I connect to the VPN?"))
    [answer] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    flat = json.dumps(answer.args["blocks"])
    assert "|Connecting to the VPN>" in flat and "review date" in flat  # the cited, dated article link
    by_action = {decode_value(b.get("value")).action_id + str(decode_value(b.get("value")).value.get("helpful")): b
                 for b in buttons_in(answer) if b.get("value")}
    not_helpful = by_action["answer.feedbackFalse"]
    container = {"type": "message", "message_ts": "1355517524.000001", "channel_id": "D024BE91L",
                 "is_ephemeral": False}
    base = json.loads(json.dumps(example("block_actions.json")))
    base.update(user={"id": EMPLOYEE_DM, "username": "sam", "team_id": "T111"}, container=container,
                channel={"id": "D024BE91L", "name": "directmessage"},
                message={"type": "message", "ts": "1355517524.000001", "text": answer.args["text"],
                         "blocks": answer.args["blocks"], "user": "UBOTHELP1", "bot_id": "BBOTHELP1"})
    slack_stack.fake.reset()
    base["actions"] = [{**base["actions"][0], "action_id": not_helpful["action_id"], "value": not_helpful["value"]}]
    slack_stack.interactive(base)
    [rating] = stored_ratings(slack_stack, f"slack:{EMPLOYEE_DM}")
    assert rating.helpful is False and rating.question == "how do I connect to the VPN?"
    [thanks] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)  # a DM: a normal message
    [updated] = slack_stack.fake.calls_to("chat.update", ok_only=True)  # the rated answer loses its votes
    assert updated.args["ts"] == "1355517524.000001" and updated.args["channel"] == "D024BE91L"
    still = [decode_value(b["value"]).action_id for b in buttons_in(updated)]
    assert still == ["ticket.open"] and "not helpful" in json.dumps(updated.args["blocks"])
    ticket_button = next(b for b in buttons_in(thanks) if decode_value(b["value"]).action_id == "ticket.open")

    slack_stack.fake.reset()
    base["actions"] = [{**base["actions"][0], "action_id": ticket_button["action_id"],
                        "value": ticket_button["value"]}]
    slack_stack.interactive(base)
    [opened] = slack_stack.fake.calls_to("views.open", ok_only=True)
    view = opened.args["view"]
    assert view["blocks"][0]["element"]["initial_value"] == "how do I connect to the VPN?"  # prefilled

    submission = json.loads(json.dumps(example("view_submission.json")))
    submission["user"] = base["user"]
    slack_stack.fake.reset()
    submission["view"].update(callback_id=view["callback_id"], private_metadata=view["private_metadata"], state={
        "values": {"summary": {"value": {"type": "plain_text_input", "value": "VPN portal rejects me"}},
                   "details": {"value": {"type": "plain_text_input", "value": None}},
                   "urgency": {"value": {"type": "static_select", "selected_option": {"value": "normal"}}}}})
    slack_stack.interactive(submission)
    [ticket] = tickets_of(slack_stack, f"slack:{EMPLOYEE_DM}")
    assert ticket.summary == "VPN portal rejects me" and ticket.requester_email == "sam.ortiz@example.com"
    [confirmation] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert ticket.key in confirmation.args["text"]

    # App Home now lists the open ticket
    slack_stack.fake.reset()
    home = unique_event(example("app_mention.json"))
    home["event"] = {"type": "app_home_opened", "user": EMPLOYEE_DM, "channel": "D024BE91L", "tab": "home",
                     "event_ts": "1515449522000016"}
    slack_stack.event(home)
    [published] = slack_stack.fake.calls_to("views.publish", ok_only=True)
    assert ticket.key in json.dumps(published.args["view"]) and "VPN portal rejects me" in json.dumps(
        published.args["view"])


def test_when_the_modal_cannot_open_the_ticket_flow_asks_in_chat(slack_stack: SlackStack) -> None:
    slack_stack.fake.fail_next("views.open", error="expired_trigger_id")
    click(slack_stack, "ticket.open", {"summary": "Keyboard missing keys"})
    assert len(slack_stack.fake.calls_to("views.open")) == 1
    [asked] = slack_stack.fake.calls_to("chat.postEphemeral", ok_only=True)  # the button was ephemeral
    assert asked.args["user"] == CLICKER and asked.args["text"]


def test_slash_command_answer_can_be_shared_in_the_channel(slack_stack: SlackStack) -> None:
    from bot.channels.slack.blocks import decode_value

    fields = {**example("slash_command.json"), "command": "/helpdesk", "text": "how do I connect to the VPN?",
              "user_id": "U111", "user_name": "uma"}
    slack_stack.command(fields)
    [eph] = slack_stack.fake.calls_to("chat.postEphemeral", ok_only=True)
    shares = [b for b in buttons_in(eph) if decode_value(b["value"]).action_id == "slack.share"]
    if not shares:
        pytest.skip("the knowledge base did not answer this question confidently (no ANSWERED reply to share)")
    slack_stack.fake.reset()
    click = json.loads(json.dumps(example("block_actions.json")))
    click["actions"][0].update(action_id=shares[0]["action_id"], value=shares[0]["value"])
    click["user"] = {"id": "U111", "username": "uma", "team_id": "T111"}
    slack_stack.interactive(click)
    [shared] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert shared.args["channel"] == "C111"
    assert "Shared by <@U111>" in json.dumps(shared.args["blocks"])
    assert shared.args["text"] == eph.args["text"]
    slack_stack.fake.reset()
    slack_stack.interactive(click)  # a second click cannot post it again
    assert slack_stack.fake.calls_to("chat.postMessage") == []


def test_did_you_mean_button_runs_the_chosen_intent(slack_stack: SlackStack) -> None:
    click(slack_stack, "router.choose", {"intent": "bot_capabilities", "text": "what are you"})
    [posted] = slack_stack.fake.calls_to("chat.postEphemeral", ok_only=True)
    assert "IT helpdesk assistant" in posted.args["text"]


def test_link_buttons_are_acknowledged_and_ignored(slack_stack: SlackStack) -> None:
    payload = json.loads(json.dumps(example("block_actions.json")))
    payload["actions"][0].update(action_id="hd.3.link", value=None)
    assert slack_stack.interactive(payload).status_code == 200
    assert [c.method for c in slack_stack.fake.calls if c.method != "auth.test"] == []
