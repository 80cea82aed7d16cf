"""A crafted analytics dataset with known timestamps, on SQLite (and PostgreSQL when configured).

The period the tests report on is 2026-11-30 (a Monday) to 2026-12-13 (a Sunday), both included.
Every expected figure in the tests is worked out by hand from the rows below.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import numpy as np
import pytest

from bot.encoding import DIM
from tests.conftest import DB_BACKENDS, PG_URL, _pg_database

SINCE, UNTIL = "2026-11-30", "2026-12-13"
VPN, PRINTING = "network/vpn", "help/printing"


def at(text: str) -> dt.datetime:
    """``MM-DD HH:MM[:SS]`` in 2026 (November/December), naive UTC."""
    return dt.datetime.fromisoformat(f"2026-{text}")


# (user, when, outcome, intent, article, question, channel)
EVENTS = [
    ("u1", "12-01 09:00", "answered", "vpn_setup", VPN, "how do I set up the vpn", "slack"),
    ("u2", "12-01 10:00", "answered", "vpn_setup", VPN, "vpn set up on my laptop", "slack"),
    ("u3", "12-01 11:00", "answered", "printing", PRINTING, "the printer jams", "slack"),
    ("u3", "12-01 11:01", "feedback", None, PRINTING, "[answer.feedback]", "slack"),
    ("u4", "12-02 09:00", "answered", "printing", PRINTING, "where is the printer", "slack"),
    ("u4", "12-02 09:01", "feedback", None, PRINTING, "[answer.feedback]", "slack"),
    ("u5", "12-03 09:00", "declined", None, None, "the coffee machine is broken", "slack"),
    ("u5", "12-03 09:45", "declined", None, None, "coffee machine broken again", "slack"),  # 45 min later
    ("u6", "11-30 00:00:00", "smalltalk", "greet", None, "hello", "slack"),   # first second of the period
    ("u6", "12-13 23:59:59", "smalltalk", "greet", None, "hi", "slack"),      # last second of the period
    ("u6", "12-14 00:00:00", "answered", "vpn_setup", VPN, "vpn again", "slack"),  # just after: left out
    ("u7", "11-29 23:50", "smalltalk", "greet", None, "hey", "slack"),        # before the period ...
    ("u7", "11-30 00:05", "info", "ticket_status", None, "my tickets", "slack"),  # ... its conversation goes on
    ("u10", "12-09 10:00", "smalltalk", "greet", None, "hello", "slack"),
    ("u10", "12-09 10:30", "info", "ticket_status", None, "my tickets", "slack"),  # exactly 30 min: the same one
    ("u8", "12-06 12:00", "answered", "vpn_setup", VPN, "vpn on sunday", "slack"),   # Sunday: week of 11-30
    ("u8", "12-07 12:00", "answered", "vpn_setup", VPN, "vpn on monday", "slack"),   # Monday: week of 12-07
    ("trainer@example.com", "12-02 10:00", "answered", "vpn_setup", VPN, "trial question", "console-trial"),
    ("u9", "11-29 23:59:59", "answered", "vpn_setup", VPN, "just before", "slack"),
    ("u5", "12-14 09:00", "declined", None, None, "coffee machine still broken", "slack"),  # after the period
]
# (name, requester, created, rating, [(rated at, rating)])
TICKETS = [
    ("IT-1", "u1", "12-02 08:00", None, []),            # 23 h after u1's answer: not deflected
    ("IT-2", "u2", "12-02 11:00", None, []),            # 25 h after u2's answer: still deflected
    ("IT-3", "r1", "12-03 10:00", 5, [("12-04 10:00", 5)]),
    ("IT-4", "r2", "12-03 11:00", 2, [("12-04 11:00", 2)]),
    ("IT-5", "r3", "11-20 10:00", 4, [("11-25 10:00", 1), ("12-05 10:00", 4)]),  # re-rated in the period
    ("IT-6", "r4", "12-05 10:00", 5, [("12-20 10:00", 5)]),   # rated after the period
    ("IT-7", "r5", "12-14 00:00:00", None, []),               # opened just after the period
]
# (user, article, helpful, when, question)
RATINGS = [
    ("u3", PRINTING, False, "12-01 11:01", "the printer jams"),
    ("u4", PRINTING, True, "12-02 09:01", "where is the printer"),
    ("u4", VPN, False, "12-02 09:02", "vpn keeps dropping"),  # another article: u4's printing answer holds
    ("u1", VPN, True, "11-29 10:00", "how do I set up the vpn"),  # before the period
    ("u5", None, False, "12-20 10:00", "coffee machine broken"),  # after the period
]
# (action, result, when)
AUDIT = [
    ("unlock", "ok", "12-01 09:30"),
    ("unlock", "ok", "12-08 10:00"),
    ("unlock", "not_locked", "12-02 10:00"),
    ("reset_link", "ok", "12-03 10:00"),
    ("lookup", "ok", "12-03 10:00"),   # a lookup is not an account action
    ("unlock", "ok", "11-29 10:00"),   # before the period
]


def fill(session) -> None:
    """Insert the crafted rows."""
    from bot.storage.models import AnalyticsEvent
    from integrations.directory.models import DirectoryAudit
    from integrations.ticketing.models import Ticket, TicketEvent
    from knowledge_base.models import KbArticle, KbRating

    session.add(KbArticle(id=VPN, path=f"{VPN}.md", title="Connecting to the VPN", content_hash="x"))
    for i, (user, when, outcome, intent, article, question, channel) in enumerate(EVENTS):
        session.add(AnalyticsEvent(turn_id=f"turn-{i}", user_key=user, channel=channel, question=question,
                                   intent=intent, outcome=outcome, top_article_id=article, created_at=at(when)))
    for name, user, when, rating, rated in TICKETS:
        ticket = Ticket(key=name, idem_key=f"helpdesk-{name}", backend="local", requester_user_key=user,
                        summary=name, description=name, rating=rating, created_at=at(when))
        session.add(ticket)
        session.flush()
        for rated_at, value in rated:
            session.add(TicketEvent(ticket_id=ticket.id, kind="rated", actor=user, data={"rating": value},
                                    created_at=at(rated_at)))
    for user, article, helpful, when, question in RATINGS:
        session.add(KbRating(question=question, article_id=article, helpful=helpful, user_key=user,
                             created_at=at(when)))
    for action, result, when in AUDIT:
        session.add(DirectoryAudit(actor="u1", action=action, result=result, created_at=at(when)))
    session.commit()


@pytest.fixture(scope="module", params=DB_BACKENDS)
def crafted_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database holding the crafted rows (one per module and backend)."""
    from bot.storage import migrate
    from bot.storage.session import Database

    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('reports') / 'helpdesk.db'}"])
    else:
        urls = _pg_database(PG_URL)  # type: ignore[arg-type]
    url = next(urls)
    db = Database(url)
    migrate.upgrade(db)
    with db.session() as session:
        fill(session)
    db.dispose()
    yield url
    for _ in urls:  # drops the PostgreSQL database
        pass


@pytest.fixture(scope="module")
def crafted_db(crafted_url: str):
    from bot.storage.session import Database

    db = Database(crafted_url)
    yield db
    db.dispose()


class WordEncoder:
    """A tiny deterministic encoder: each word is one hashed dimension (shared words → similar questions)."""

    dim = DIM

    def encode(self, texts, **_kw):
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in set(text.lower().split()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] /= norm or 1.0
        return out

    def encode_one(self, text):
        return self.encode([text])[0]
