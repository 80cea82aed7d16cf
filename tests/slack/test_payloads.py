"""Slack payloads → engine values (no Slack, no engine)."""

from __future__ import annotations

from bot.channels.slack.blocks import encode_value
from bot.channels.slack.identity import SlackUser
from bot.channels.slack.payloads import (
    clean_text,
    first_action,
    in_ephemeral,
    in_view,
    is_answerable,
    is_public,
    to_message,
    user_of,
    where,
)


def test_clean_text_strips_the_mention_and_slack_markup() -> None:
    raw = ("<@UBOTHELP1> my mail &amp; <mailto:a@example.com|a@example.com> on "
           "<https://x.example.com|the portal> in <#C1|it>")
    assert clean_text(raw, "UBOTHELP1") == "my mail & a@example.com on the portal in #it"
    assert clean_text("<@W111> Hi there!") == "Hi there!"


def test_channels_are_public_and_dms_are_not() -> None:
    assert is_public("C0GENERAL1") and is_public("G0PRIVATE1")
    assert not is_public("D0DIRECT01") and not is_public(None) and not is_public("")


def test_only_new_messages_from_people_are_answered() -> None:
    assert is_answerable({"user": "W1", "text": "hi"})
    assert is_answerable({"user": "W1", "subtype": "thread_broadcast"})
    assert not is_answerable({"user": "W1", "subtype": "message_changed"})
    assert not is_answerable({"user": "W1", "bot_id": "B1"})
    assert not is_answerable({"text": "no author"})
    assert not is_answerable({"user": "UBOT"}, "UBOT")  # the bot's own message


def test_who_pressed_what_where() -> None:
    body = {"user": {"id": "W111"}, "container": {"type": "message", "channel_id": "C1", "message_ts": "5.6",
                                                  "is_ephemeral": True},
            "actions": [{"value": encode_value("answer.feedback", {"helpful": True})}]}
    assert user_of(body) == "W111"
    assert where(body) == ("C1", "5.6")  # in a channel, a click answers in the message's thread
    assert in_ephemeral(body) and not in_view(body)
    action = first_action(body)
    assert action is not None and action.action_id == "answer.feedback" and action.value == {"helpful": True}
    home = {"user": {"id": "W111"}, "container": {"type": "view", "view_id": "V1"}}
    assert where(home) == (None, None) and in_view(home)
    assert first_action({"actions": [{"value": "not json"}]}) is None
    assert user_of({"event": {"user": "U9"}}) == "U9" and user_of({"user_id": "U8"}) == "U8"


def test_the_conversation_is_the_thread_and_the_identity_comes_from_slack() -> None:
    who = SlackUser("W1", email="dana.lee@example.com", display_name="Dana Lee")
    message = to_message(who, text="vpn?", channel_id="C1", thread_ts="1.2", private=False, event_id="Ev1")
    assert message.user_key == "slack:W1" and message.channel == "slack"
    assert message.email == "dana.lee@example.com" and message.thread_key == "C1:1.2"
    assert to_message(who, text="", channel_id="D1", thread_ts=None, private=True).thread_key == "D1"
