"""`kb gaps` lists only questions within the helpdesk's remit, by the intent model's own out-of-scope rule."""

from __future__ import annotations

import datetime as dt

import pytest

from intents.remit import RemitRule, gibberish
from knowledge_base.gaps import AnsweredQuestion, find_gaps

pytestmark = pytest.mark.slow  # the real encoder and the trained default model


def test_weather_flights_and_gibberish_are_not_gaps(default_model, encoder, migrated_db):
    now = dt.datetime(2026, 11, 25, 12, 0)
    texts = ["how do I connect a second monitor to my laptop", "can I get a docking station for my desk",
             "what's the weather like in rome tomorrow", "book me a flight to london",
             "asdfgh qwzx jjkkll", "is chatgpt allowed for work"]
    asked = [AnsweredQuestion(t, "declined", now) for t in texts]
    with migrated_db.session() as s:
        everything = find_gaps(s, asked, lambda: encoder)
        within = find_gaps(s, asked, lambda: encoder, remit=RemitRule(default_model))
    listed = {q.text for g in within for q in g.questions}
    assert {q.text for g in everything for q in g.questions} == set(texts)  # without the rule: all of them
    assert listed == {texts[0], texts[1], texts[5]}


def test_gibberish_check_keeps_real_questions_with_product_names():
    assert gibberish("asdfgh qwzx jjkkll")
    assert not gibberish("globalprotect vpn keeps disconnecting")
    assert not gibberish("how do I reset my okta password")
    assert not gibberish("vpn?") and gibberish("xkcdqz wvbnmk plokij")
