"""The confidence policy through the engine: act, ask "Did you mean …?", or search and offer a ticket."""

from __future__ import annotations

import pytest

from bot.flows.routing import is_action
from bot.messages import Action, Message, Outcome

pytestmark = pytest.mark.slow


@pytest.fixture
def engine_for(nlu_settings):
    from bot.engine import Engine
    from bot.services import Services
    from bot.storage import migrate

    def build(**nlu):
        services = Services(nlu_settings(nlu=nlu) if nlu else nlu_settings())
        migrate.upgrade(services.db)
        return Engine(services), services

    return build


def ask(engine, text, user="terminal:ana"):
    return engine.handle(Message(text=text, user_key=user, display_name="Ana Lima"))


def test_high_confidence_acts_on_the_intent(engine_for):
    engine, services = engine_for()
    parse = services.nlu.parse("hi there!")
    assert parse.intent.name == "greet" and parse.intent.confidence >= services.settings.nlu.high_confidence
    reply = ask(engine, "hi there!")
    assert reply.outcome is Outcome.SMALLTALK and reply.intent == "greet"
    assert "Hi Ana" in reply.text


def test_medium_confidence_asks_did_you_mean_with_the_top_candidates(engine_for):
    # A band covering everything below certainty makes the branch independent of the model's exact score.
    engine, services = engine_for(high_confidence=1.0, low_confidence=0.0)
    text = "login broken"
    parse = services.nlu.parse(text)
    assert not parse.out_of_scope and parse.intent.confidence < 1.0
    assert not services.kb.search(text).answerable  # no article answers it, so the bot asks
    reply = ask(engine, text)
    assert reply.outcome is Outcome.CLARIFY
    assert "Did you mean" in reply.text
    choices = [b.value["intent"] for b in reply.buttons if b.action_id == "router.choose"]
    expected = [s.name for s in parse.ranking if is_action(s.name)][:len(choices)]  # actions only, best first
    assert choices == expected and 2 <= len(choices) <= 3
    assert reply.buttons[-1].label == "None of these"
    # Picking a candidate runs that intent's flow with the original text.
    picked = next(b for b in reply.buttons if b.value.get("intent") == choices[0])
    after = engine.handle(Message(text="", user_key="terminal:ana",
                                  action=Action(picked.action_id, picked.value)))
    assert after.outcome is not Outcome.CLARIFY and after.intent == choices[0]


def test_medium_confidence_with_an_answering_article_shows_it_and_offers_the_actions(engine_for):
    """Unsure which action, but an article answers the message: the answer, with the candidate actions under it."""
    engine, services = engine_for(high_confidence=1.0, low_confidence=0.0)
    text = "I can't log in to my account"
    parse = services.nlu.parse(text)
    found = services.kb.search(text)
    assert parse.intent.confidence < 1.0 and found.answerable and found.top is not None
    reply = ask(engine, text, user="terminal:ben")
    assert reply.outcome is Outcome.ANSWERED and reply.sources[0].article_id == found.top.info.id
    assert [b.label for b in reply.buttons][:3] == ["Helpful", "Not helpful", "Open a ticket"]
    choices = [b.value["intent"] for b in reply.buttons if b.action_id == "router.choose"]
    assert choices and choices == [s.name for s in parse.ranking if is_action(s.name)][:len(choices)]
    picked = next(b for b in reply.buttons if b.value.get("intent") == choices[0])
    after = engine.handle(Message(text="", user_key="terminal:ben", action=Action(picked.action_id, picked.value)))
    assert after.outcome is not Outcome.CLARIFY and after.intent == choices[0]


OFF_TOPIC = ["what's the weather going to be in paris tomorrow", "who won the football match last night"]


def test_low_confidence_or_out_of_scope_searches_then_offers_a_ticket(engine_for):
    engine, services = engine_for()
    # Import the bundled articles before the turn, as a server does at start-up (on SQLite a
    # first-use import inside the turn's open write transaction would wait on its own lock).
    getattr(services.kb, "bootstrap", lambda: None)()
    for n, text in enumerate(OFF_TOPIC):
        assert services.nlu.parse(text).out_of_scope
        check_search_then_ticket(ask(engine, text, user=f"terminal:u{n}"))


def check_search_then_ticket(reply):
    assert reply.outcome in (Outcome.DECLINED, Outcome.ANSWERED)
    actions = {b.action_id for b in reply.buttons}
    if reply.outcome is Outcome.DECLINED:
        # Said plainly, and the employee can hand it to IT.
        assert "ticket.open" in actions and "don't know" in reply.text
    else:
        # An answer always asks whether it helped.
        assert "answer.feedback" in actions
