"""Escalations while the (fake) Jira fails: what reached Jira, what was lost or duplicated, who was told.

Shared by tests/ticketing/test_outbox_measure.py (a small slice) and bench/ticket_outbox.py
(the full run: 1,000 escalations). Every escalation goes through the real engine
(``ticket.submit``) and is written to the outbox in the turn's transaction; escalations keep
arriving in batches while ``integrations.ticketing.worker.run_once`` delivers to the
spec-validating fake Jira, which fails by round: HTTP 500, then *creates issues but the answers
are lost* (client time-out), then refuses connections (the port is closed), then plain
time-outs, then 429 with Retry-After, then recovers. Afterwards the notification outbox is
delivered to a recording Slack sender: every requester must hear their ticket key and IT's
triage channel must get one post per ticket. One requester in five uses the HTTP API (a pull
channel with no sender), so their notifications must not hold up anyone else's.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.ticketing.fake_jira import FakeJira

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "specs" / "jira" / "jira-platform-rest-v3.swagger-v3.v3.json"
TRIAGE = "C0TRIAGE"
# (fault, rounds it lasts); "lost_response" is also capped by ``lost`` creates
FAULTS = (("500", 2), ("lost_response", 2), ("refused", 2), ("timeout", 2), ("429", 2))


def _user(i: int) -> str:
    return f"http:api-user-{i:04d}" if i % 5 == 4 else f"slack:U{i:04d}"


def measure(n: int, *, idempotent: bool, deployment: str = "cloud", lost: int | None = None,
            workdir: Path | None = None) -> dict[str, Any]:
    """Escalate ``n`` requests during a Jira outage, deliver everything, and count the outcome."""
    from bot.config import load_settings
    from bot.engine import Engine
    from bot.messages import Action, Message
    from bot.services import Services
    from bot.storage import migrate
    from bot.storage.session import Database
    from integrations.ticketing.worker import run_once

    fake = FakeJira(SPEC, deployment=deployment, email="bot@example.com", api_token="tok-123456",
                    pat="pat-123456").start()
    tmp = workdir or Path(tempfile.mkdtemp(prefix="outbox-bench-"))
    url = f"sqlite:///{tmp / ('idem.db' if idempotent else 'naive.db')}"
    jira: dict[str, Any] = {"url": fake.url, "timeout_seconds": 0.1, "set_reporter": False}
    jira.update({"email": "bot@example.com", "api_token": "tok-123456"} if deployment == "cloud"
                else {"personal_access_token": "pat-123456"})
    empty = tmp / "empty.toml"
    empty.touch()
    settings = load_settings(empty, environ={}, database={"url": url},
                             paths={"var_dir": str(tmp / "var"), "models_dir": str(tmp / "models")},
                             slack={"triage_channel": TRIAGE},
                             ticketing={"backend": "jira", "jira": jira, "duplicate_method": "off",
                                        "outbox_backoff_seconds": 0.001, "outbox_max_backoff_seconds": 0.001,
                                        "outbox_batch": 50, "outbox_max_attempts": 1000})
    db = Database(url)
    migrate.upgrade(db)
    services = Services(settings, db)
    engine = Engine(services)
    lost = lost if lost is not None else max(1, n // 7)
    schedule = [mode for mode, rounds in FAULTS for _ in range(rounds)]
    batch = max(1, -(-n // (len(schedule) + 2)))  # escalations keep arriving through the outage
    escalated = rounds = adopted = 0
    started = time.perf_counter()
    try:
        while True:
            for i in range(escalated, min(n, escalated + batch)):
                engine.handle(Message(text="", user_key=_user(i), channel=_user(i).split(":")[0],
                                      email=f"user{i}@example.com",
                                      action=Action("ticket.submit", {"summary": f"Request {i}: laptop issue",
                                                                      "details": f"details {i}",
                                                                      "urgency": "normal"})))
            escalated = min(n, escalated + batch)
            mode = schedule[rounds] if rounds < len(schedule) else None
            _set_fault(fake, mode, lost)
            rounds += 1
            adopted += run_once(services.db, services.ticketing, settings.ticketing, services.notices, limit=50,
                                idempotent=idempotent).adopted
            if not _make_due(db) and escalated >= n and rounds >= len(schedule):
                break
            if rounds > 100 + n // 10:
                break
        _set_fault(fake, None, 0)
        elapsed = time.perf_counter() - started
        figures = _count(db, fake, n, lost, idempotent, deployment)
        figures.update(_notifications(services, db))
        figures.update(delivery_rounds=rounds, seconds=round(elapsed, 2),
                       lost_answers_adopted=adopted)  # created, answer lost, found again by its label
        return figures
    finally:
        fake.stop()
        db.dispose()


def _set_fault(fake: FakeJira, mode: str | None, lost: int) -> None:
    if mode == "refused":
        fake.fail(None)
        fake.go_down()
        return
    fake.come_back()
    if mode == "lost_response":
        remaining = fake.state.fail_remaining if fake.state.fail_mode == "lost_response" else lost
        fake.fail(mode, times=remaining, delay=0.15)
    else:
        fake.fail(mode, delay=0.15)


def _make_due(db: Any) -> int:
    """Make every pending retry due now (the run does not wait for backoff); how many are pending."""
    from sqlalchemy import select

    from bot.storage.base import utcnow
    from integrations.ticketing.models import TicketOutbox

    with db.session() as session:
        pending = session.scalars(select(TicketOutbox).where(TicketOutbox.status == "pending")).all()
        for row in pending:
            row.next_attempt_at = utcnow()
        return len(pending)


def _count(db: Any, fake: FakeJira, n: int, lost: int, idempotent: bool, deployment: str) -> dict[str, Any]:
    from sqlalchemy import select

    from integrations.ticketing.models import Ticket, TicketOutbox

    with db.session() as session:
        rows = session.scalars(select(Ticket)).all()
        idem = [t.idem_key for t in rows]
        with_key = sum(1 for t in rows if t.key)
        outbox = session.scalars(select(TicketOutbox)).all()
        attempts = sum(o.attempts for o in outbox)
        failed = sum(1 for o in outbox if o.status == "failed")
    per_label = Counter(label for issue in fake.state.issues.values() for label in issue["fields"]["labels"]
                        if label.startswith("helpdesk-") and label != "helpdesk-bot")
    faults = Counter(status for _m, _p, status in fake.state.requests if status in (-1, 429, 500))
    return {
        "escalations": n, "idempotent": idempotent, "deployment": deployment,
        "tickets_recorded": len(rows),
        "issues_in_jira": len(fake.state.issues),
        "tickets_with_key": with_key,
        "duplicates": sum(c - 1 for c in per_label.values() if c > 1),
        "lost": sum(1 for k in idem if per_label.get(k, 0) == 0) + max(0, n - len(rows)),
        "outbox_failed": failed,
        "lost_responses_injected": lost,
        "faults_seen": {"http_500": faults[500], "http_429": faults[429], "no_answer": faults[-1],
                        "refused_rounds": sum(r for m, r in FAULTS if m == "refused")},
        "delivery_attempts": attempts,
        "contract_violations": len(fake.state.violations),
    }


def _notifications(services: Any, db: Any) -> dict[str, Any]:
    """Deliver the notification outbox to a recording Slack sender; who heard their key, and IT's posts."""
    from sqlalchemy import select

    from bot.notify import deliver_pending
    from bot.storage.models import Notification
    from integrations.ticketing.models import Ticket

    heard: dict[str, list[str]] = {}
    services.register_sender("slack", lambda user_key, reply: heard.setdefault(user_key, []).append(reply.text))
    while deliver_pending(services, limit=200):
        pass
    with db.session() as session:
        tickets = session.scalars(select(Ticket)).all()
        queued = session.scalars(select(Notification)).all()
    by_user: dict[str, list[str]] = {}
    for row in queued:
        by_user.setdefault(row.user_key, []).append(str(row.reply.get("text", "")))
    def told(key: str | None, texts: list[str]) -> bool:
        return bool(key) and any(re.search(rf"\b{re.escape(key or '')}\b", text) for text in texts)

    slack = [t for t in tickets if t.requester_user_key.startswith("slack:")]
    api = [t for t in tickets if not t.requester_user_key.startswith("slack:")]
    triage = heard.get(f"slack:{TRIAGE}", [])
    return {
        "slack_requesters": len(slack),
        "slack_requesters_heard_key": sum(1 for t in slack if told(t.key, heard.get(t.requester_user_key, []))),
        "api_requesters": len(api),
        "api_requesters_key_queued": sum(1 for t in api if told(t.key, by_user.get(t.requester_user_key, []))),
        "triage_posts": sum(1 for t in tickets if told(t.key, triage)),
        "notifications_pending_for_slack": sum(1 for r in queued if r.user_key.startswith("slack:")
                                               and r.status == "pending"),
    }
