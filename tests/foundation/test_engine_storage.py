"""The engine's transactions: short on SQLite, user-safe when the database fails, flows end on failure."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

import numpy as np
import pytest
from sqlalchemy import select

from bot.engine import NOT_STORED, Engine
from bot.errors import InvalidInputError
from bot.flows.texts import SOMETHING_WENT_WRONG
from bot.messages import Message, Outcome
from bot.services import Services
from bot.storage import migrate
from bot.storage.models import ConversationState


class BlockingEncoder:
    """Stands in for the sentence encoder: holds the turn inside "encoding" until released."""

    dim = 384

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        return np.stack([self.encode_one(t) for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        self.entered.set()
        assert self.release.wait(30)
        raise RuntimeError("encoder stopped by the test")


def test_a_slow_turn_on_sqlite_does_not_hold_the_database_write_lock(make_settings, sqlite_url) -> None:
    encoder = BlockingEncoder()
    services = Services(make_settings(sqlite_url), encoder=encoder)
    migrate.prepare(services.db)
    engine = Engine(services)
    # a returning user: their state row exists, so the turn has something it could lock
    engine.handle(Message(text="   ", user_key="terminal:ann"))
    replies = []
    turn = threading.Thread(target=lambda: replies.append(
        engine.handle(Message(text="how do I connect to the vpn", user_key="terminal:ann"))))
    turn.start()
    assert encoder.entered.wait(30)
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=2)
    try:  # another user's turn writing now must not wait for the slow one
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO conversation_state (user_key, slots, updated_at) "
                      "VALUES ('terminal:bob', '{}', '2026-01-01 00:00:00')")
        other.commit()
    finally:
        other.close()
        encoder.release.set()
        turn.join(30)
    assert replies and replies[0].text == SOMETHING_WENT_WRONG
    services.db.dispose()


def test_an_unreachable_database_gets_a_user_safe_reply(make_settings, tmp_path) -> None:
    services = Services(make_settings("postgresql+psycopg://nobody@127.0.0.1:1/helpdesk"))
    reply = Engine(services).handle(Message(text="hello", user_key="terminal:ann"))
    assert reply.text == NOT_STORED and reply.outcome is Outcome.ERROR
    assert "127.0.0.1" not in reply.text and "nobody" not in reply.text


@pytest.mark.parametrize("error, flow_kept", [(RuntimeError("boom"), False),
                                               (InvalidInputError("The summary cannot be empty."), True)])
def test_a_failed_step_ends_the_form_unless_the_input_was_just_wrong(make_settings, database_url, monkeypatch,
                                                                      error: Exception, flow_kept: bool) -> None:
    services = Services(make_settings(database_url))
    migrate.prepare(services.db)
    with services.db.session() as session:
        session.add(ConversationState(user_key="terminal:ann", active_flow="ticket", slots={"step": "summary"}))

    def fail(ctx):  # noqa: ANN001, ANN202
        ctx.update_slots(step="details")  # a half-done change must not survive the failure
        raise error

    monkeypatch.setattr(services.flows["ticket"], "handle_followup", fail)
    reply = Engine(services).handle(Message(text="my laptop is broken", user_key="terminal:ann"))
    assert reply.outcome is Outcome.ERROR
    with services.db.session() as session:
        state = session.scalars(select(ConversationState)).one()
    if flow_kept:
        assert reply.text == "The summary cannot be empty."
        assert state.active_flow == "ticket" and state.slots == {"step": "summary"}
    else:
        assert reply.text == SOMETHING_WENT_WRONG
        assert state.active_flow is None
    services.db.dispose()
