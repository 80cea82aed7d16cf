"""An outage of the (fake) Jira during many escalations: what reached Jira, what was lost or duplicated.

Shared by tests/ticketing/test_outbox_measure.py (a small run) and bench/ticket_outbox.py
(the full measurement). Every escalation goes through the real engine
(``ticket.submit``), is written to the outbox in the turn's transaction, and is
delivered by ``integrations.ticketing.worker.run_once`` to the spec-validating fake
Jira. During the outage Jira answers 500, then *creates issues but the answers are
lost* (client time-out), then 429 with Retry-After, then plain time-outs, then recovers.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.ticketing.fake_jira import FakeJira

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "specs" / "jira" / "jira-platform-rest-v3.swagger-v3.v3.json"


def measure(n: int, *, idempotent: bool, deployment: str = "cloud", lost: int | None = None,
            workdir: Path | None = None) -> dict[str, Any]:
    """Escalate ``n`` requests, deliver through an outage, and count what reached Jira."""
    from sqlalchemy import select

    from bot.config import load_settings
    from bot.engine import Engine
    from bot.messages import Action, Message
    from bot.services import Services
    from bot.storage import migrate
    from bot.storage.base import utcnow
    from bot.storage.session import Database
    from integrations.ticketing.models import Ticket, TicketOutbox
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
                             ticketing={"backend": "jira", "jira": jira, "duplicate_method": "off",
                                        "outbox_backoff_seconds": 0.001, "outbox_max_backoff_seconds": 0.001,
                                        "outbox_batch": 50})
    db = Database(url)
    migrate.upgrade(db)
    services = Services(settings, db)
    engine = Engine(services)
    for i in range(n):
        engine.handle(Message(text="", user_key=f"slack:U{i:04d}", channel="slack",
                              email=f"user{i}@example.com",
                              action=Action("ticket.submit", {"summary": f"Request {i}: laptop issue",
                                                              "details": f"details {i}", "urgency": "normal"})))
    lost = lost if lost is not None else max(1, n // 7)
    schedule = [("500", None, 3), ("lost_response", lost, None), ("429", max(1, n // 10), None),
                ("timeout", max(1, n // 20), None)]
    rounds = 0
    started = time.perf_counter()
    phase = 0
    while True:
        if phase < len(schedule):
            mode, times, max_rounds = schedule[phase]
            fake.fail(mode, times=times, delay=0.15)
        rounds += 1
        run_once(services.db, services.ticketing, settings.ticketing, services.notices, limit=50,
                 idempotent=idempotent)
        if phase < len(schedule):
            mode, times, max_rounds = schedule[phase]
            exhausted = (max_rounds is not None and rounds >= max_rounds) or (
                times is not None and fake.state.fail_remaining == 0)
            if exhausted:
                phase += 1
            if phase >= len(schedule):
                fake.fail(None)
        with db.session() as session:
            pending = session.scalars(select(TicketOutbox).where(TicketOutbox.status == "pending")).all()
            for row in pending:  # make retries due at once (the bench does not wait for backoff)
                row.next_attempt_at = utcnow()
            if not pending and phase >= len(schedule):
                break
        if rounds > 500:
            break
    elapsed = time.perf_counter() - started
    with db.session() as session:
        rows = session.scalars(select(Ticket)).all()
        idem = [t.idem_key for t in rows]
        with_key = sum(1 for t in rows if t.key)
        attempts = sum(o.attempts for o in session.scalars(select(TicketOutbox)).all())
    per_label = Counter(label for issue in fake.state.issues.values() for label in issue["fields"]["labels"]
                        if label.startswith("helpdesk-") and label != "helpdesk-bot")
    fake.stop()
    db.dispose()
    return {
        "escalations": n, "idempotent": idempotent, "deployment": deployment,
        "issues_in_jira": len(fake.state.issues),
        "tickets_with_key": with_key,
        "duplicates": sum(c - 1 for c in per_label.values() if c > 1),
        "lost": sum(1 for k in idem if per_label.get(k, 0) == 0),
        "lost_responses_injected": lost,
        "delivery_rounds": rounds, "delivery_attempts": attempts,
        "contract_violations": len(fake.state.violations),
        "seconds": round(elapsed, 2),
    }
