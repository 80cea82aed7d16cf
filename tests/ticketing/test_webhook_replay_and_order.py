"""Webhook deliveries apply once and in order: replays, late deliveries, comments sent twice, early deliveries."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import select

from integrations.ticketing.models import Ticket, TicketComment
from tests.ticketing.conftest import local_ticket, notifications, tickets
from tests.ticketing.webhooks import DONE, IN_PROGRESS, example, issue_update, post


def test_replay_with_a_fresh_identifier_header_has_no_second_effect(jira_services, bot_url,
                                                                    jira_ticket):
    body = example("mattermost-webhook-cloud-comment-created.json", jira_ticket)
    assert post(bot_url, body, delivery_id="d-1").json()["result"] == "applied"
    replay = post(bot_url, body, delivery_id="d-2-forged")
    assert replay.status_code == 200 and replay.json()["result"] == "duplicate"
    notes = [n for n in notifications(jira_services, "slack:alice") if "replied" in n.reply["text"]]
    assert len(notes) == 1


def test_older_issue_updated_does_not_overwrite_a_newer_status(jira_services, bot_url,
                                                               jira_ticket):
    s = jira_services
    newer = issue_update(jira_ticket, status=DONE, updated="2026-11-25T10:05:00.000+0000")
    older = issue_update(jira_ticket, status=IN_PROGRESS, updated="2026-11-25T10:00:00.000+0000")
    assert post(bot_url, newer).json()["result"] == "applied"
    assert post(bot_url, older).json()["result"] == "ignored"  # delivered late, out of order
    [t] = tickets(s)
    assert t.status == "Done" and t.status_category == "done" and t.resolved_at is not None
    assert not [n for n in notifications(s, "slack:alice") if "reopened" in n.reply["text"].lower()]
    later = issue_update(jira_ticket, status=IN_PROGRESS, updated="2026-11-25T11:00:00.000+0000")
    assert post(bot_url, later).json()["result"] == "applied"  # a genuinely newer reopen applies
    assert tickets(s)[0].status_category == "open"


def test_webhook_for_a_local_queue_ticket_is_ignored(jira_services, bot_url, jira_ticket):
    s = jira_services
    local_ticket(s, "IT-77")
    data = json.loads(example("mattermost-webhook-issue-updated-resolved.json", jira_ticket))
    data["issue"]["key"], data["issue"]["id"] = "IT-77", "424242"
    r = post(bot_url, json.dumps(data).encode())
    assert r.status_code == 200 and r.json()["result"] == "ignored"
    local = next(t for t in tickets(s) if t.key == "IT-77")
    assert local.status_category == "open" and local.resolved_at is None
    assert notifications(s, "slack:carol") == []


def test_the_same_jira_comment_is_stored_once(jira_services, bot_url, jira_ticket):
    """Server sends comment_created and issue_updated for one comment, possibly at the same time."""
    s = jira_services
    bodies = [example("mattermost-webhook-server-comment-created.json", jira_ticket),
              example("mattermost-webhook-server-issue-updated-commented-1.json", jira_ticket)]
    threads = [threading.Thread(target=post, args=(bot_url, b)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with s.db.session() as session:
        assert len(session.scalars(select(TicketComment)).all()) == 1
    assert len([n for n in notifications(s, "slack:alice") if "replied" in n.reply["text"]]) == 1


def test_concurrent_insert_of_one_comment_keeps_one_row(jira_services, jira_ticket, database_url):
    from integrations.ticketing.updates import apply_comment

    if not database_url.startswith("postgresql"):
        pytest.skip("needs row-level concurrency (PostgreSQL): SQLite serialises whole transactions")
    s = jira_services
    results = []
    with s.db.session() as first:
        t1 = first.get(Ticket, jira_ticket.id)
        assert apply_comment(first, t1, sink=s.notices, author="IT", body="On it", external_id="c-1")
        first.flush()

        def second() -> None:
            with s.db.session() as other:  # its check ran before the first committed
                t2 = other.get(Ticket, jira_ticket.id)
                results.append(apply_comment(other, t2, sink=s.notices, author="IT", body="On it", external_id="c-1"))

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
    thread.join(10)
    assert results == [False]
    with s.db.session() as session:
        assert len(session.scalars(select(TicketComment)).all()) == 1


def test_unique_comment_id_per_ticket_is_enforced(jira_services, jira_ticket):
    from sqlalchemy.exc import IntegrityError

    s = jira_services
    with pytest.raises(IntegrityError), s.db.session() as session:
        for _ in range(2):
            session.add(TicketComment(ticket_id=jira_ticket.id, author="IT", body="x", external_id="c-9"))
        session.flush()


def test_early_webhook_retried_later_is_applied(jira_services, bot_url, jira_ticket):
    s = jira_services
    body = example("mattermost-webhook-cloud-comment-created.json", jira_ticket)
    with s.db.session() as session:  # as before the worker recorded the key Jira gave
        t = session.get(Ticket, jira_ticket.id)
        t.key, t.remote_id = None, None
    assert post(bot_url, body, delivery_id="early-1").json()["result"] == "ignored"
    with s.db.session() as session:
        t = session.get(Ticket, jira_ticket.id)
        t.key, t.remote_id = jira_ticket.key, jira_ticket.remote_id
    assert post(bot_url, body, delivery_id="early-1").json()["result"] == "applied"  # Jira's retry
    assert len([n for n in notifications(s, "slack:alice") if "replied" in n.reply["text"]]) == 1


def test_delivery_ids_are_forgotten_after_the_retention_on_every_database(jira_services, make_settings, tmp_path):
    """Each bot's database is pruned on its own schedule: another database pruned earlier never holds it up."""
    import datetime as dt

    from bot.services import Services
    from bot.storage.base import utcnow
    from bot.storage.migrate import upgrade
    from bot.storage.session import Database
    from integrations.ticketing.models import JiraWebhookDelivery
    from integrations.ticketing.worker import DELIVERY_RETENTION, run_once

    other_db = Database(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other_db)
    other = Services(make_settings(f"sqlite:///{tmp_path / 'other.db'}"), other_db)
    old, recent = utcnow() - DELIVERY_RETENTION - dt.timedelta(hours=1), utcnow() - dt.timedelta(days=1)
    for services in (other, jira_services):  # the other bot's worker runs first
        with services.db.session() as session:
            session.add(JiraWebhookDelivery(delivery_key="old", event="e", received_at=old))
            session.add(JiraWebhookDelivery(delivery_key="recent", event="e", received_at=recent))
        run_once(services.db, services.ticketing, services.settings.ticketing, services.notices)
        with services.db.session() as session:
            assert session.scalars(select(JiraWebhookDelivery.delivery_key)).all() == ["recent"]
    other_db.dispose()
