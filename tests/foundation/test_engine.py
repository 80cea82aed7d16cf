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


def test_http_chat_api(services: Services) -> None:
    from fastapi.testclient import TestClient

    from bot.server import create_app

    with TestClient(create_app(services, start_workers=False)) as client:
        reply = client.post("/api/v1/messages", json={"user": "web-1", "text": "good morning"}).json()
        assert reply["intent"] == "greet" and reply["turn_id"]
        bad = client.post("/api/v1/messages", json={"text": "no user"})
        assert bad.status_code == 422


def test_a_multi_turn_flow_survives_a_restart(make_settings, database_url) -> None:
    """Each turn runs on a fresh Services + Engine (a restart, or another replica)."""
    settings = make_settings(database_url)

    def turn(text: str):
        svc = Services(settings)
        migrate.prepare(svc.db)
        try:
            return Engine(svc).handle(Message(text=text, user_key="terminal:erin", email="erin@example.com"))
        finally:
            svc.db.dispose()

    first = turn("I want to open a ticket")
    assert first.outcome is Outcome.COLLECTING
    replies = [first]
    for text in ("The docking station stopped charging my laptop",
                 "Since yesterday; no light on the dock at all", "high"):
        if replies[-1].outcome is not Outcome.COLLECTING:
            break
        replies.append(turn(text))
    final = replies[-1]
    assert final.outcome is Outcome.ESCALATED, [r.text for r in replies]
    assert final.ticket_key and final.ticket_key.startswith("IT-")
