"""The engine end to end on the embedded defaults: transcripts, analytics, errors, chat channels."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from sqlalchemy import select

from bot.engine import Engine
from bot.messages import Action, Message, Outcome
from bot.services import Services
from bot.storage import migrate
from bot.storage.models import AnalyticsEvent, TranscriptEntry


@pytest.fixture
def services(make_settings, database_url):
    settings = make_settings(database_url)
    svc = Services(settings)
    migrate.prepare(svc.db)
    yield svc
    svc.db.dispose()


def test_secrets_typed_by_the_user_are_stored_masked(services: Services) -> None:
    engine = Engine(services)
    secret, token = "Hunter2!xyz", "xoxb-123456789012-abcdefghijklmnop"
    engine.handle(Message(text=f"my password is {secret} and my token {token} doesn't work",
                          user_key="terminal:ann"))
    with services.db.session() as session:
        lines = session.scalars(select(TranscriptEntry.text)).all()
        questions = session.scalars(select(AnalyticsEvent.question)).all()
    stored = " ".join(lines + questions)
    assert "doesn't work" in stored
    assert secret not in stored and token not in stored


def test_every_turn_records_an_analytics_event(services: Services) -> None:
    engine = Engine(services)
    reply = engine.handle(Message(text="hello there", user_key="terminal:bob"))
    with services.db.session() as session:
        event = session.scalars(select(AnalyticsEvent).where(AnalyticsEvent.turn_id == reply.turn_id)).one()
    assert event.intent == reply.intent == "greet"
    assert event.outcome == Outcome.SMALLTALK.value
    assert event.confidence is not None and event.confidence > 0.5


def test_user_mistakes_get_friendly_replies(services: Services) -> None:
    engine = Engine(services)
    empty = engine.handle(Message(text="   ", user_key="terminal:cy"))
    assert "didn't catch" in empty.text
    stale = engine.handle(Message(text="", user_key="terminal:cy", action=Action("nosuchflow.do")))
    assert "expired" in stale.text and stale.outcome is Outcome.ERROR


def test_terminal_chat_renders_choices_and_follows_a_numbered_pick(services: Services) -> None:
    from bot.channels.terminal import run_chat

    out = io.StringIO()
    inputs = iter(["hi", "1", "/quit"])
    run_chat(services, user="dana", console=Console(file=out, width=120),
             ask=lambda prompt, **kw: next(inputs))
    text = out.getvalue()
    assert "1. What can you do?" in text          # button rendered as a numbered choice
    assert "open a ticket" in text.lower()         # picking 1 showed the capabilities
    assert "Traceback" not in text


def test_http_chat_api(make_settings, database_url) -> None:
    from fastapi.testclient import TestClient

    from bot.server import create_app

    svc = Services(make_settings(database_url, server={"api_token": "t0ken-for-tests-0123"}))
    migrate.prepare(svc.db)
    with TestClient(create_app(svc, start_workers=False)) as client:
        auth = {"Authorization": "Bearer t0ken-for-tests-0123"}
        reply = client.post("/api/v1/messages", json={"user": "web-1", "text": "good morning"},
                            headers=auth).json()
        assert reply["intent"] == "greet" and reply["turn_id"]
        assert client.post("/api/v1/messages", json={"text": "no user"}, headers=auth).status_code == 422
        assert client.post("/api/v1/messages", json={"user": "x", "text": "hi"}).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.post("/api/v1/messages", json={"user": "x", "text": "hi"}, headers=wrong).status_code == 401
    svc.db.dispose()


def test_http_chat_api_is_off_without_a_token(services: Services) -> None:
    from fastapi.testclient import TestClient

    from bot.server import create_app

    with TestClient(create_app(services, start_workers=False)) as client:
        assert client.post("/api/v1/messages", json={"user": "x", "text": "hi"}).status_code == 404


def test_two_first_messages_at_once_both_get_answers(make_settings, database_url) -> None:
    """Two replicas handling a new user's first messages concurrently: no raw error."""
    import threading

    settings = make_settings(database_url)
    replicas = [Services(settings), Services(settings)]
    migrate.prepare(replicas[0].db)
    for svc in replicas:
        _ = svc.nlu  # load before racing
    barrier = threading.Barrier(2)
    replies = []

    def send(svc: Services) -> None:
        barrier.wait()
        replies.append(Engine(svc).handle(Message(text="hello", user_key="slack:UNEW")))

    threads = [threading.Thread(target=send, args=(svc,)) for svc in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(replies) == 2 and all(r.outcome is Outcome.SMALLTALK for r in replies), [r.text for r in replies]
    for svc in replicas:
        svc.db.dispose()
