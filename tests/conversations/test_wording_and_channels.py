"""Human wording and channel-appropriate formatting: labels, plain text outside Slack, quiet logs in the chat."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import yaml
from rich.console import Console

from bot.flows.routing import INTENT_LABELS, explicit_request, label_for
from bot.messages import Button, Reply, plain_text
from tests.conftest import ROOT


def _intents() -> set[str]:
    names = set()
    for path in Path(ROOT / "data" / "intents").glob("*.yml"):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" in item:
                names.add(item["intent"])
    return names


def test_every_intent_has_a_human_label() -> None:
    intents = _intents()
    assert "wifi_issue" in intents and "deny" in intents
    missing = sorted(i for i in intents if i not in INTENT_LABELS)
    assert not missing, f"intents without a label: {missing}"
    for intent in intents:  # never the raw name dressed up ("Wifi issue", "Deny")
        assert label_for(intent) != intent.replace("_", " ").capitalize(), intent


def test_the_request_for_a_ticket_is_not_part_of_the_problem() -> None:
    assert explicit_request("my external monitors keep flickering, can you open a ticket") == \
        ("ticket", "My external monitors keep flickering")
    assert explicit_request("could you raise a ticket for me please") == ("ticket", "")
    human = explicit_request("I'd like to speak to a person about my calendar not syncing")
    assert human is not None and human[0] == "human"
    assert explicit_request("how do I open a ticket?") is None
    assert explicit_request("my ticket IT-4 is still open") is None


def test_json_and_rasa_get_plain_text_and_slack_keeps_its_markup() -> None:
    reply = Reply(text="Your account *alice* is locked. Use `Ctrl+Alt+Del`.",
                  buttons=[Button("Unlock *alice*", "account.unlock")])
    assert plain_text(reply.text) == "Your account alice is locked. Use Ctrl+Alt+Del."
    data = reply.to_dict(plain=True)
    assert "*" not in data["text"] and "`" not in data["text"] and data["buttons"][0]["label"] == "Unlock alice"
    assert reply.to_dict()["text"] == reply.text  # stored replies (Slack re-renders them) keep the markup
    assert Reply.from_dict(reply.to_dict()).text == reply.text

    from rasa_sdk.executor import CollectingDispatcher

    from bot.channels.rasa_actions import utter

    dispatcher = CollectingDispatcher()
    utter(dispatcher, reply)
    sent = dispatcher.messages[0]
    assert sent["text"].startswith("Your account alice is locked") and "*" not in sent["text"]
    assert "*" not in sent["custom"]["helpdesk"]["text"]


def test_the_terminal_prints_no_markup() -> None:
    from bot.channels.terminal import render_reply

    out = io.StringIO()
    render_reply(Console(file=out, width=200), Reply(text="Your account *alice* is locked.",
                                                    buttons=[Button("Unlock *alice*", "account.unlock")]))
    assert "Your account alice is locked." in out.getvalue() and "*alice*" not in out.getvalue()


def test_no_log_line_reaches_the_terminal_chat(story_services, capsys) -> None:
    """A refused form (blank summary) used to print "WARNING bot.engine: turn failed …" into the chat."""
    from bot.channels.terminal import run_chat
    from bot.logs import configure_logging

    configure_logging("INFO")
    inputs = iter(["open a ticket", "", "", "normal", "cancel"])
    out = io.StringIO()

    def ask(prompt: str, **kw: object) -> str:
        try:
            return next(inputs)
        except StopIteration:
            raise EOFError from None

    logging.getLogger("bot.engine").warning("a warning before the chat is shown")  # the handler works
    before = capsys.readouterr().err
    assert "a warning before the chat" in before
    run_chat(story_services, user="story-quiet-logs", console=Console(file=out, width=200), ask=ask)
    captured = capsys.readouterr()
    chat = out.getvalue() + captured.out + captured.err
    assert "fill in the summary" in chat.lower()
    assert "WARNING" not in chat and "turn failed" not in chat and "INFO" not in chat
    logging.getLogger("bot.engine").warning("after the chat")  # and logging is back afterwards
    assert "after the chat" in capsys.readouterr().err


def test_did_you_mean_offers_only_actions_and_the_knowledge_base_decides_topics(story_services) -> None:
    """With every score in the "unsure" band, topics still go to the knowledge base; only actions are offered."""
    from bot.engine import Engine
    from bot.flows.routing import ACTION_INTENTS
    from bot.messages import Message, Outcome
    from bot.services import Services

    base = story_services.settings
    unsure = base.model_copy(update={"nlu": base.nlu.model_copy(update={"high_confidence": 1.0,
                                                                        "low_confidence": 0.0})})
    services = Services(unsure, story_services.db, nlu=story_services.nlu, encoder=story_services.encoder,
                        kb=story_services.kb, ticketing=story_services.ticketing)
    engine = Engine(services)

    def ask(text: str) -> Reply:
        return engine.handle(Message(text=text, user_key="terminal:story-unsure-band"))

    for topic in ("how do I connect to the vpn from home", "what's the guest wifi password",
                  "lost my laptop at the airport"):
        reply = ask(topic)
        assert reply.outcome is not Outcome.CLARIFY, (topic, reply.text, [b.label for b in reply.buttons])
        assert not any(b.action_id == "router.choose" for b in reply.buttons), topic
    reply = ask("login broken")  # an unsure action no article answers: "Did you mean", actions only
    offered = [b.value["intent"] for b in reply.buttons if b.action_id == "router.choose"]
    assert reply.outcome is Outcome.CLARIFY and offered and set(offered) <= ACTION_INTENTS, offered
    assert reply.buttons[-1].label == "None of these"
    reply = ask("I can't log in to my account")  # an article answers: shown, with the actions offered under it
    offered = [b.value["intent"] for b in reply.buttons if b.action_id == "router.choose"]
    assert reply.outcome is Outcome.ANSWERED and offered and set(offered) <= ACTION_INTENTS, offered
