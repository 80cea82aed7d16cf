"""A turn whose COMMIT reached the database but whose answer was lost is not reported as "not saved".

The database connection can drop while the commit is in flight (a cut, a failover):
the turn may be fully stored. Telling the employee "nothing was saved, send it
again" would make them repeat it, so the engine asks the database before answering.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from bot.engine import NOT_STORED, Engine
from bot.messages import Message
from bot.services import Services
from bot.storage import migrate
from bot.storage.models import AnalyticsEvent
from bot.storage.session import Database
from bot.turn_commit import NOT_CONFIRMED, was_stored


def _lose_the_turns_commit_answer(services: Services, engine: Engine) -> None:
    """The turn's commit happens in the database, then the connection drops before its answer arrives."""
    armed = {"recorded": False}
    record = engine._record

    def recorded(*args: Any) -> None:
        record(*args)
        armed["recorded"] = True  # the next commit is the turn's

    def dropped(_session: Any) -> None:
        if armed.pop("recorded", False):
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    engine._record = recorded  # type: ignore[method-assign]
    event.listen(services.db.sessionmaker, "after_commit", dropped)


def _turns(services: Services, turn_id: str) -> int:
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).where(AnalyticsEvent.turn_id == turn_id)) or 0)


def test_a_stored_turn_whose_commit_answer_was_lost_gets_its_real_reply(make_settings: Any,
                                                                        database_url: str) -> None:
    services = Services(make_settings(database_url))
    migrate.prepare(services.db)
    engine = Engine(services)
    normal = engine.handle(Message(text="   ", user_key="terminal:ann"))
    _lose_the_turns_commit_answer(services, engine)
    reply = engine.handle(Message(text="   ", user_key="terminal:ann"))
    assert reply.text == normal.text and reply.text != NOT_STORED  # not "send it again": it was saved
    assert _turns(services, str(reply.turn_id)) == 1
    services.db.dispose()


def test_when_the_database_cannot_say_the_employee_is_told_it_may_be_saved(make_settings: Any, sqlite_url: str,
                                                                          monkeypatch: Any) -> None:
    services = Services(make_settings(sqlite_url))
    migrate.prepare(services.db)
    engine = Engine(services)
    _lose_the_turns_commit_answer(services, engine)
    monkeypatch.setattr("bot.engine.was_stored", lambda db, turn_id: None)  # still unreachable
    reply = engine.handle(Message(text="   ", user_key="terminal:ann"))
    assert reply.text == NOT_CONFIRMED
    services.db.dispose()


def test_an_unreachable_database_cannot_say_whether_a_turn_was_stored() -> None:
    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/helpdesk")
    assert was_stored(db, "0" * 32, tries=2, wait=0.0) is None
    db.dispose()
