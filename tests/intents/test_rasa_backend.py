"""`nlu.backend = "rasa"`: the bot understands through a remote Rasa server's /model/parse."""

from __future__ import annotations

import pytest

from bot.encoding import DIM
from bot.errors import NluBackendError
from integrations.rasa.client import RasaNluClient
from tests.intents.servers import fake_rasa, free_port

# A response recorded from Rasa 3.6 (DIETClassifier + RegexEntityExtractor + EntitySynonymMapper).
RECORDED = {
    "text": "my vpn is broken, ticket IT-77",
    "intent": {"id": -3416712377392396281, "name": "vpn_issue", "confidence": 0.9817},
    "entities": [
        {"entity": "system", "start": 3, "end": 6, "value": "vpn", "extractor": "RegexEntityExtractor"},
        {"entity": "ticket_key", "start": 25, "end": 30, "value": "IT-77", "extractor": "RegexEntityExtractor",
         "processors": ["EntitySynonymMapper"]},
    ],
    "text_tokens": [[0, 2], [3, 6], [7, 9], [10, 16], [18, 24], [25, 30]],
    "intent_ranking": [
        {"id": -3416712377392396281, "name": "vpn_issue", "confidence": 0.9817},
        {"id": 1206281219475702930, "name": "wifi_issue", "confidence": 0.0121},
    ],
    "response_selector": {"all_retrieval_intents": [], "default": {"response": {}, "ranking": []}},
}
FALLBACK = {"text": "xyzzy", "intent": {"name": "nlu_fallback", "confidence": 0.3},
            "entities": [], "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.3},
                                               {"name": "greet", "confidence": 0.21}]}


def _configured_parser(settings):
    """The parser the composition root builds for ``settings``; a local encoder must never be needed."""
    from bot.services import Services

    services = Services(settings, encoder=_NoEncoder())
    return services.nlu


class _NoEncoder:
    dim = DIM

    def encode(self, texts, **_):
        pytest.fail("no local encoder for Rasa")

    def encode_one(self, text):
        pytest.fail("no local encoder for Rasa")


def test_parses_through_remote_rasa(make_settings, sqlite_url):
    with fake_rasa(lambda body: (200, RECORDED if body["text"] != "xyzzy" else FALLBACK)) as (url, seen):
        settings = make_settings(sqlite_url, nlu={"backend": "rasa", "rasa_url": url + "/"})
        parser = _configured_parser(settings)
        assert isinstance(parser, RasaNluClient)
        result = parser.parse("my vpn is broken, ticket IT-77")
        assert seen[0]["path"] == "/model/parse" and seen[0]["body"] == {"text": "my vpn is broken, ticket IT-77"}
        assert (result.intent.name, result.intent.confidence) == ("vpn_issue", 0.9817)
        assert [s.name for s in result.ranking] == ["vpn_issue", "wifi_issue"]
        assert [(e.entity, e.value, e.start, e.end, e.text) for e in result.entities] == [
            ("system", "vpn", 3, 6, "vpn"), ("ticket_key", "IT-77", 25, 30, "IT-77")]
        assert result.to_rasa()["entities"] == RECORDED["entities"]
        fallback = parser.parse("xyzzy")
        assert fallback.out_of_scope and fallback.intent.name == "out_of_scope"


def test_unreachable_or_failing_rasa_is_a_clear_integration_error():
    client = RasaNluClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(NluBackendError) as info:
        client.parse("hello")
    assert "language-understanding service is not reachable" in info.value.user_message
    with fake_rasa(lambda body: (500, {"status": "failure"})) as (url, _):
        with pytest.raises(NluBackendError):
            RasaNluClient(url).parse("hello")


def test_rasa_backend_needs_a_url(make_settings, sqlite_url):
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="rasa_url"):
        _configured_parser(make_settings(sqlite_url, nlu={"backend": "rasa"}))


@pytest.mark.slow
def test_engine_routes_on_the_remote_rasa_answer(make_settings, sqlite_url):
    from bot.engine import Engine
    from bot.messages import Message, Outcome
    from bot.services import Services
    from bot.storage import migrate

    greet = {"text": "hello", "intent": {"name": "greet", "confidence": 0.97}, "entities": [],
             "intent_ranking": [{"name": "greet", "confidence": 0.97}]}
    with fake_rasa(lambda body: (200, greet)) as (url, seen):
        services = Services(make_settings(sqlite_url, nlu={"backend": "rasa", "rasa_url": url}))
        migrate.upgrade(services.db)
        reply = Engine(services).handle(Message(text="hello", user_key="terminal:ana"))
        assert reply.outcome is Outcome.SMALLTALK and reply.intent == "greet"
        assert seen and seen[0]["body"]["text"] == "hello"
