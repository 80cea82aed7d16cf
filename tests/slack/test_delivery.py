"""Delivery without the engine: notification sender, private replies, dedupe ledger, identity cache."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.slack.adapter import SlackAdapter, build_slack_adapter
from bot.channels.slack.dedupe import EventLedger
from bot.channels.slack.identity import UserResolver
from bot.channels.slack.models import SlackProcessedEvent
from bot.errors import SlackError
from bot.messages import Button, Outcome, Reply
from bot.notify import deliver_pending, enqueue
from bot.services import Services
from bot.storage.models import Notification
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.slack.fake_slack import FakeSlack


@pytest.fixture
def services(fake_slack: FakeSlack, migrated_db: Any, make_settings: Any, database_url: str) -> Services:
    settings = make_settings(database_url, slack={"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET,
                                                  "api_base_url": fake_slack.base_url})
    return Services(settings, db=migrated_db)


@pytest.fixture
def adapter(services: Services) -> Any:
    built = build_slack_adapter(services)
    yield built
    built.shutdown()


def test_notification_sender_dms_users_and_posts_to_channels(
        adapter: SlackAdapter, services: Services, fake_slack: FakeSlack) -> None:
    # the triage surface's sender: its own notifications, everything else to Delivery.send_notification
    assert services.channel_senders["slack"] == adapter.sender.send
    with services.db.session() as session:
        enqueue(session, user_key="slack:U0123ABCD", reply=Reply(text="IT-7 was resolved.", ticket_key="IT-7"))
        enqueue(session, user_key="slack:W0123ABCD", reply=Reply(text="IT replied on IT-8."))
        enqueue(session, user_key="slack:C0TRIAGE1", reply=Reply(text="New ticket IT-9 (urgent)."))
        enqueue(session, user_key="slack:G0PRIVATE", reply=Reply(text="New ticket IT-10."))
    assert deliver_pending(services) == 4
    opened = [c.args["users"] for c in fake_slack.calls_to("conversations.open")]
    assert opened == ["U0123ABCD", "W0123ABCD"]
    channels = [c.args["channel"] for c in fake_slack.calls_to("chat.postMessage", ok_only=True)]
    assert channels == [fake_slack.dm_of("U0123ABCD"), fake_slack.dm_of("W0123ABCD"), "C0TRIAGE1", "G0PRIVATE"]


def test_a_failing_notification_stays_queued_for_retry(
        adapter: SlackAdapter, services: Services, fake_slack: FakeSlack) -> None:
    with services.db.session() as session:
        enqueue(session, user_key="slack:C0TRIAGE1", reply=Reply(text="New ticket"))
    fake_slack.fail_next("chat.postMessage", error="not_in_channel")
    assert deliver_pending(services) == 0
    with services.db.session() as session:
        row = session.scalars(select(Notification)).one()
        assert row.status == "pending" and row.attempts == 1 and row.last_error == "SlackApiError"


def test_private_reply_in_a_public_channel_goes_ephemeral(adapter: SlackAdapter, fake_slack: FakeSlack) -> None:
    secret = Reply(text="Your account is unlocked.", outcome=Outcome.ACCOUNT_ACTION, private=True)
    adapter.delivery.reply_in_place(secret, user_id="W0123ABCD", channel="C0GENERAL1", thread_ts="1.2",
                                    public=True)
    assert fake_slack.calls_to("chat.postMessage") == []
    [eph] = fake_slack.calls_to("chat.postEphemeral", ok_only=True)
    assert eph.args["user"] == "W0123ABCD" and eph.args["thread_ts"] == "1.2"
    adapter.delivery.reply_in_place(secret, user_id="W0123ABCD", channel="D0DIRECT01", thread_ts=None,
                                    public=False)
    assert len(fake_slack.calls_to("chat.postMessage", ok_only=True)) == 1  # a DM is already private


def test_a_credential_is_shown_ephemerally_even_in_a_dm_and_never_queued(
        adapter: SlackAdapter, services: Services, fake_slack: FakeSlack) -> None:
    password = "Tmp-Qx7!fjw2Lp9"
    reply = Reply(text=f"Your temporary password: {password}", outcome=Outcome.ACCOUNT_ACTION,
                  private=True, sensitive=True, turn_id="turn-cred-1")
    adapter.delivery.reply_in_place(reply, user_id="W0123ABCD", channel="D0DIRECT01", thread_ts=None,
                                    public=False)
    assert fake_slack.calls_to("chat.postMessage") == []  # not kept in the DM's history
    [eph] = fake_slack.calls_to("chat.postEphemeral", ok_only=True)
    assert eph.args["channel"] == "D0DIRECT01" and eph.args["user"] == "W0123ABCD"
    # Slack refusing it: the reply is parked for a retry, but without the credential
    fake_slack.fail_next("chat.postEphemeral", error="fatal_error")
    adapter.delivery.reply_in_place(reply, user_id="W0123ABCD", channel="D0DIRECT01", thread_ts=None,
                                    public=False)
    with services.db.session() as session:
        stored = " ".join(str(r.reply) for r in session.scalars(select(Notification)))
    assert "ask me again" in stored and password not in stored


def test_ephemeral_falls_back_to_response_url_when_the_bot_is_not_in_the_channel(
        adapter: SlackAdapter, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postEphemeral", error="channel_not_found")
    hook = fake_slack.base_url.replace("/api/", "/hooks/commands/T111/111/xxxxx")
    adapter.delivery.reply_in_place(Reply(text="Here is how."), user_id="W0123ABCD", channel="C0ELSEWHERE",
                                    thread_ts=None, public=True, response_url=hook, force_ephemeral=True,
                                    extra_buttons=[Button("Share in channel", "slack.share", {"turn": "t"})])
    [posted] = fake_slack.calls_to("response_url")
    assert posted.args["response_type"] == "ephemeral" and posted.args["text"] == "Here is how."


def test_ledger_claims_each_event_once_even_concurrently(migrated_db: Any) -> None:
    ledger = EventLedger(migrated_db, retention_hours=24)
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        results.append(ledger.claim("Ev0SAME"))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    ledger.release("Ev0SAME")  # processing failed: Slack's retry gets another chance
    assert ledger.claim("Ev0SAME") is True


def test_ledger_keeps_ids_for_the_retention_window_then_purges(migrated_db: Any) -> None:
    ledger = EventLedger(migrated_db, retention_hours=24)
    assert ledger.claim("Ev0RECENT")
    with migrated_db.session() as session:
        session.add(SlackProcessedEvent(event_id="Ev0OLD",
                                        received_at=dt.datetime.utcnow() - dt.timedelta(hours=25)))
        session.add(SlackProcessedEvent(event_id="Ev0HOURS",
                                        received_at=dt.datetime.utcnow() - dt.timedelta(hours=23)))
    assert ledger.purge() == {"event ids": 1}
    assert ledger.claim("Ev0RECENT") is False and ledger.claim("Ev0HOURS") is False
    assert ledger.claim("Ev0OLD") is True


def test_identity_is_cached_until_it_expires(fake_slack: FakeSlack) -> None:
    from slack_sdk import WebClient

    fake_slack.add_user("U0CACHE01", "kim.park@example.com", "Kim Park")
    now = [1000.0]
    users = UserResolver(WebClient(token=BOT_TOKEN, base_url=fake_slack.base_url), ttl=60, clock=lambda: now[0])
    first = users.resolve("U0CACHE01")
    assert first.email == "kim.park@example.com" and first.display_name == "Kim Park"
    users.resolve("U0CACHE01")
    assert len(fake_slack.calls_to("users.info")) == 1
    now[0] += 61
    users.resolve("U0CACHE01")
    assert len(fake_slack.calls_to("users.info")) == 2
    missing = users.resolve("U0NOBODY1")  # users.info fails: no e-mail, the turn still runs
    assert missing.email is None


def test_a_credential_never_leaves_through_a_response_url(
        adapter: SlackAdapter, services: Services, fake_slack: FakeSlack) -> None:
    """A forged payload can name any response_url: a one-time link must not follow it there."""
    link = "https://helpdesk.example.com/reset/very-secret-one-time-token"
    fake_slack.fail_next("chat.postEphemeral", error="channel_not_found")
    hook = fake_slack.base_url.replace("/api/", "/hooks/actions/T111/222/foreign")
    reply = Reply(text=f"Your one-time link: {link}", outcome=Outcome.ACCOUNT_ACTION, private=True,
                  sensitive=True, turn_id="turn-cred-2")
    adapter.delivery.reply_in_place(reply, user_id="W0123ABCD", channel="C0NOTMINE1", thread_ts=None,
                                    public=True, response_url=hook, force_ephemeral=True)
    assert fake_slack.calls_to("response_url") == []
    with services.db.session() as session:
        stored = " ".join(str(r.reply) for r in session.scalars(select(Notification)))
    assert "ask me again" in stored and link not in stored
    with pytest.raises(SlackError) as refused:
        adapter.delivery.respond(hook, reply)
    assert "credential" in (refused.value.detail or "")
    assert fake_slack.calls_to("response_url") == []


def test_notifications_no_channel_can_push_never_block_the_rest(adapter: SlackAdapter, services: Services,
                                                                fake_slack: FakeSlack) -> None:
    """Rows for API and terminal users (picked up at their next turn) stay out of the worker's way."""
    with services.db.session() as session:
        for i in range(120):  # more than one delivery round's worth, all at the head of the queue
            enqueue(session, user_key=f"http:web-{i}", reply=Reply(text=f"IT-{i} was resolved."))
            enqueue(session, user_key=f"terminal:user-{i}", reply=Reply(text=f"IT-{i} was resolved."))
        for i in range(3):
            enqueue(session, user_key="slack:C0TRIAGE1", reply=Reply(text=f"New ticket IT-{200 + i}"))
    assert deliver_pending(services, limit=50) == 3
    texts = [c.args["text"] for c in fake_slack.calls_to("chat.postMessage", ok_only=True)]
    assert texts == ["New ticket IT-200", "New ticket IT-201", "New ticket IT-202"]
    with services.db.session() as session:
        waiting = session.scalars(select(Notification).where(Notification.status == "pending")).all()
    assert len(waiting) == 240 and all(not r.user_key.startswith("slack:") for r in waiting)


def test_a_failing_notification_does_not_delay_the_next(
        adapter: SlackAdapter, services: Services, fake_slack: FakeSlack) -> None:
    with services.db.session() as session:
        enqueue(session, user_key="slack:C0GONE0001", reply=Reply(text="first"))
        enqueue(session, user_key="slack:C0TRIAGE1", reply=Reply(text="second"))
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")
    assert deliver_pending(services) == 1
    assert [c.args["text"] for c in fake_slack.calls_to("chat.postMessage", ok_only=True)] == ["second"]
    assert deliver_pending(services) == 0  # the failed one waits for its backoff, not at the head


def test_two_workers_never_send_the_same_notification(
        adapter: SlackAdapter, services: Services, fake_slack: FakeSlack) -> None:
    with services.db.session() as session:
        for i in range(40):
            enqueue(session, user_key="slack:C0TRIAGE1", reply=Reply(text=f"n{i}"))
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def work() -> None:
        barrier.wait()
        counts.append(deliver_pending(services, limit=40))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    texts = [c.args["text"] for c in fake_slack.calls_to("chat.postMessage", ok_only=True)]
    assert sum(counts) == 40 and sorted(texts) == sorted(f"n{i}" for i in range(40))
