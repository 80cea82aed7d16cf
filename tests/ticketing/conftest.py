"""Fixtures for the ticketing tests: a fake Jira (Cloud or Server), services on a migrated DB,
and helpers that drive the real engine and ticket flow."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import shared_path
from tests.ticketing.fake_jira import FakeJira

CLOUD_EMAIL, CLOUD_TOKEN, SERVER_PAT = "helpdesk-bot@example.com", "ATATT-test-cloud-token-0001", "pat-server-0002"
WEBHOOK_SECRET = "hook-secret-3-for-tests"


def jira_spec():
    return shared_path("specs", "jira", "jira-platform-rest-v3.swagger-v3.v3.json")


def start_fake(deployment: str) -> FakeJira:
    fake = FakeJira(jira_spec(), deployment=deployment, email=CLOUD_EMAIL, api_token=CLOUD_TOKEN,
                    pat=SERVER_PAT).start()
    fake.add_user("alice@example.com", "Alice Example")
    fake.add_user("bob@example.com", "Bob Example")
    return fake


def jira_section(fake: FakeJira, **more: Any) -> dict[str, Any]:
    jira: dict[str, Any] = {"url": fake.url, "timeout_seconds": 0.5, "webhook_secret": WEBHOOK_SECRET,
                            "intent_routes": {"vpn_issue": {"project": "NET", "issue_type": "Incident",
                                                            "components": ["VPN"], "labels": ["remote-access"]}}}
    if fake.deployment == "cloud":
        jira.update(email=CLOUD_EMAIL, api_token=CLOUD_TOKEN)
    else:
        jira.update(personal_access_token=SERVER_PAT)
    jira.update(more)
    return {"backend": "jira", "jira": jira, "outbox_backoff_seconds": 0.01,
            "outbox_max_backoff_seconds": 0.05, "duplicate_method": "tokens"}


@pytest.fixture(params=["cloud", "server"])
def fake_jira(request: pytest.FixtureRequest) -> Iterator[FakeJira]:
    """A fake Jira Cloud and a fake Jira Server/Data Center; asserts no contract violations."""
    fake = start_fake(request.param)
    yield fake
    fake.stop()
    assert fake.state.violations == [], "requests the real Jira would reject"


@pytest.fixture
def jira_services(migrated_db, make_settings, database_url, fake_jira):
    from bot.services import Services

    settings = make_settings(database_url, ticketing=jira_section(fake_jira),
                             slack={"triage_channel": "C0TRIAGE"})
    return Services(settings, migrated_db)


@pytest.fixture
def local_services(migrated_db, make_settings, database_url):
    from bot.services import Services

    settings = make_settings(database_url, ticketing={"duplicate_method": "tokens"})
    return Services(settings, migrated_db)


# --------------------------------------------------------------------- webhooks
@pytest.fixture
def bot_url(jira_services) -> Iterator[str]:
    """The bot's Jira webhook route served by uvicorn on 127.0.0.1 (real HTTP)."""
    import uvicorn
    from fastapi import FastAPI

    from bot.web.jira import build_router

    app = FastAPI()
    app.include_router(build_router(jira_services))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def jira_ticket(jira_services, fake_jira):
    press(jira_services, "alice", "ticket.submit", {"summary": "VPN drops", "details": "error 812"})
    deliver_outbox(jira_services)
    [t] = tickets(jira_services)
    return t


# --------------------------------------------------------------------- driving turns
def deliver_outbox(services, **kw: Any):
    """One round of the ticket outbox job, wired as `helpdesk serve` wires it."""
    from integrations.ticketing.worker import run_once

    return run_once(services.db, services.ticketing, services.settings.ticketing, services.notices, **kw)


def due_now(services) -> None:
    """Make every outbox row due at once (the tests do not wait for the backoff)."""
    from sqlalchemy import select

    from bot.storage.base import utcnow
    from integrations.ticketing.models import TicketOutbox

    with services.db.session() as session:
        for row in session.scalars(select(TicketOutbox)).all():
            row.next_attempt_at = utcnow()


def press(services, user: str, action_id: str, value: dict | None = None, **msg: Any):
    """A button press / form submission through the real engine."""
    from bot.engine import Engine
    from bot.messages import Action, Message

    message = Message(text="", user_key=f"slack:{user}", channel="slack", action=Action(action_id, value or {}),
                      **_who(user, msg))
    return Engine(services).handle(message)


def say(services, user: str, text: str, **msg: Any):
    """Free text through the real engine (reaches the ticket flow while it is collecting)."""
    from bot.engine import Engine
    from bot.messages import Message

    return Engine(services).handle(Message(text=text, user_key=f"slack:{user}", channel="slack",
                                           **_who(user, msg)))


def ask_intent(services, user: str, text: str, intent: str, entities: list | None = None, **msg: Any):
    """An understood intent handed to the ticket flow, as the router does at high confidence."""
    from bot.engine import Engine
    from bot.flows.base import TurnContext
    from bot.messages import Message
    from intents.api import IntentScore, ParseResult

    engine = Engine(services)
    message = Message(text=text, user_key=f"slack:{user}", channel="slack", **_who(user, msg))
    with services.db.session() as session:
        state = engine._load_state(session, message.user_key)
        ctx = TurnContext(message=message, session=session, state=state, secrets=services.secrets,
                          encode=lambda text: services.encoder.encode_one(text))
        ctx.parse = ParseResult(text=text, intent=IntentScore(intent, 0.95), entities=entities or [])
        reply = services.flows["ticket"].handle_intent(ctx)
        engine._record(ctx, reply)
    return reply


def _who(user: str, msg: dict[str, Any]) -> dict[str, Any]:
    return {"email": msg.pop("email", f"{user}@example.com"),
            "display_name": msg.pop("display_name", user.capitalize()), **msg}


def notifications(services, user_key: str | None = None) -> list:
    from sqlalchemy import select

    from bot.storage.models import Notification

    with services.db.session() as session:
        stmt = select(Notification).order_by(Notification.id)
        if user_key:
            stmt = stmt.where(Notification.user_key == user_key)
        return list(session.scalars(stmt).all())


def tickets(services) -> list:
    from sqlalchemy import select

    from integrations.ticketing.models import Ticket

    with services.db.session() as session:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)).all())


def local_ticket(s, key: str) -> None:
    """A ticket of the local queue (e.g. from before the switch to Jira) with ``key``."""
    from integrations.ticketing.models import Ticket

    with s.db.session() as session:
        session.add(Ticket(key=key, idem_key=f"helpdesk-local-{key}", backend="local",
                           requester_user_key="slack:carol", requester_email="carol@example.com",
                           participants=[], summary="Local ticket", description="local", status="Open",
                           status_category="open", components=[], labels=[], extra={}))
