"""Two-way relay between a ticket's triage card and the employee's DM, for the local queue and for Jira.

IT writes in the card's thread (or the Reply modal): the employee gets it in their
DM, marked as from IT with the agent's name, and it is on the ticket once. The
employee answers in that DM thread: it is on the ticket (a Jira comment through the
outbox) and in the card's thread. A comment the bot put in Jira does not come back
through the webhook as a second message.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.slack.conftest import EMPLOYEE, SlackStack
from tests.slack.fake_slack import FakeSlack
from tests.slack.test_triage import (
    AGENT,
    AGENT_NAME,
    OUTSIDER,
    TRIAGE,
    calls,
    card_of,
    click,
    deliver,
    open_ticket,
    text_of_blocks,
    ticket,
    triage_stack,
)

EMPLOYEE_NAME = "Dana Lee"


@pytest.fixture(scope="module")
def local(fake_slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[SlackStack]:
    yield from triage_stack(tmp_path_factory.mktemp("relay-local"), fake_slack, models_dir)


@pytest.fixture(scope="module")
def jira() -> Iterator[Any]:
    from tests.ticketing.conftest import start_fake

    fake = start_fake("cloud")
    yield fake
    fake.stop()
    assert fake.state.violations == [], "requests the real Jira would reject"


@pytest.fixture(scope="module")
def on_jira(fake_slack: FakeSlack, jira: Any, tmp_path_factory: pytest.TempPathFactory,
            models_dir: Path) -> Iterator[SlackStack]:
    from tests.ticketing.conftest import jira_section

    yield from triage_stack(tmp_path_factory.mktemp("relay-jira"), fake_slack, models_dir,
                            ticketing=jira_section(jira))


# --------------------------------------------------------------------------- driving it
def message(stack: SlackStack, *, user: str, channel: str, thread_ts: str, text: str,
            channel_type: str) -> str:
    """A ``message`` event as the Events API delivers it (signed JSON); returns its ts."""
    ts = f"{1700000000 + uuid.uuid4().int % 10**8}.{uuid.uuid4().int % 10**6:06d}"
    payload = {
        "token": "one-long-verification-token", "team_id": "T111", "api_app_id": "A111",
        "event": {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
                  "thread_ts": thread_ts, "event_ts": ts, "channel_type": channel_type},
        "type": "event_callback", "event_id": "Ev" + uuid.uuid4().hex[:10].upper(), "event_time": 1700000000,
        "authorizations": [{"team_id": "T111", "user_id": FakeSlack.BOT_USER, "is_bot": True,
                            "is_enterprise_install": False}],
    }
    assert stack.event(payload).status_code == 200
    return ts


def new_ticket_with_card(stack: SlackStack, summary: str) -> tuple[str, Any]:
    key = open_ticket(stack, summary)
    if stack.services.ticketing.name == "jira":  # queued: Jira gives the key
        run_outbox(stack)
        key = str(_tickets(stack)[-1].key)
    deliver(stack)
    return key, card_of(stack, key)


def run_outbox(stack: SlackStack) -> Any:
    from integrations.ticketing.worker import run_once

    s = stack.services
    return run_once(s.db, s.ticketing, s.settings.ticketing, s.notices)


def dm_posts(stack: SlackStack) -> list[Any]:
    return calls(stack, "chat.postMessage", channel=stack.fake.dm_of(EMPLOYEE))


def comments(stack: SlackStack, key: str) -> list[Any]:
    from integrations.ticketing.models import Ticket, TicketComment

    with stack.services.db.session() as session:
        rows = session.scalars(select(TicketComment).join(Ticket, Ticket.id == TicketComment.ticket_id)
                               .where(Ticket.key == key).order_by(TicketComment.id)).all()
        return [(c.author, c.body, c.from_requester) for c in rows]


def it_replies_in_the_card_thread(stack: SlackStack, key: str, card: Any, text: str) -> Any:
    """IT writes in the card's thread; returns the one DM the employee gets (asserted to be one)."""
    stack.fake.reset()
    message(stack, user=AGENT, channel=TRIAGE, thread_ts=card.response["ts"], text=text, channel_type="channel")
    deliver(stack)
    deliver(stack)
    [dm] = [c for c in dm_posts(stack) if text in str(c.args.get("text"))]
    return dm


def employee_answers(stack: SlackStack, dm: Any, text: str) -> None:
    thread = dm.args.get("thread_ts") or dm.response["ts"]
    stack.fake.reset()
    message(stack, user=EMPLOYEE, channel=stack.fake.dm_of(EMPLOYEE), thread_ts=thread, text=text,
            channel_type="im")
    deliver(stack)


def in_card_thread(stack: SlackStack, card: Any) -> list[Any]:
    return calls(stack, "chat.postMessage", channel=TRIAGE, thread_ts=card.response["ts"])


# --------------------------------------------------------------------------- local queue
def test_it_reply_in_the_card_thread_reaches_the_employee_and_the_ticket(local: SlackStack) -> None:
    key, card = new_ticket_with_card(local, "VPN asks for a token every hour")
    dm = it_replies_in_the_card_thread(local, key, card, "Can you try the new VPN profile?")
    assert AGENT_NAME in dm.args["text"] and key in dm.args["text"]  # the agent's name
    assert "From IT" in text_of_blocks(dm)  # marked as from IT
    assert not dm.args.get("thread_ts")  # the first IT reply starts the ticket's DM thread
    assert comments(local, key) == [(AGENT_NAME, "Can you try the new VPN profile?", False)]

    second = it_replies_in_the_card_thread(local, key, card, "Any luck?")
    assert second.args["thread_ts"] == dm.response["ts"] and second.args.get("reply_broadcast") is True
    assert len(comments(local, key)) == 2


def test_the_employees_answer_reaches_the_ticket_and_the_card_thread(local: SlackStack) -> None:
    key, card = new_ticket_with_card(local, "Outlook keeps crashing")
    dm = it_replies_in_the_card_thread(local, key, card, "Which Outlook version do you have?")
    employee_answers(local, dm, "Version 2410, it crashes when I open attachments")
    assert comments(local, key)[-1] == (EMPLOYEE_NAME, "Version 2410, it crashes when I open attachments", True)
    confirmed = [c for c in dm_posts(local) if key in str(c.args.get("text"))]
    assert confirmed and confirmed[0].args["thread_ts"] == dm.response["ts"]  # answered in the DM thread
    [shown] = in_card_thread(local, card)
    assert "Version 2410" in shown.args["text"] and EMPLOYEE_NAME in shown.args["text"]
    deliver(local)
    assert len(in_card_thread(local, card)) == 1  # once


def test_the_same_thread_message_delivered_twice_is_relayed_once(local: SlackStack) -> None:
    key, card = new_ticket_with_card(local, "Teams has no microphone")
    local.fake.reset()
    payload_ts = message(local, user=AGENT, channel=TRIAGE, thread_ts=card.response["ts"], text="Check the mute key",
                         channel_type="channel")
    from bot.channels.slack.triage_models import SlackRelayedMessage

    with local.services.db.session() as session:
        assert session.get(SlackRelayedMessage, f"{TRIAGE}:{payload_ts}") is not None
    # the job run again (a replica took it over after a crash): nothing new
    local.adapter.run_job({"kind": "triage_thread", "key": "x", "user": AGENT, "channel": TRIAGE,
                           "thread_ts": card.response["ts"], "ts": payload_ts, "text": "Check the mute key",
                           "ticket_id": int(key.split("-")[1])})
    assert len(comments(local, key)) == 1


def test_someone_outside_it_cannot_write_to_the_employee_from_the_thread(local: SlackStack) -> None:
    key, card = new_ticket_with_card(local, "Badge does not open the door")
    local.fake.reset()
    message(local, user=OUTSIDER, channel=TRIAGE, thread_ts=card.response["ts"], text="I have this too",
            channel_type="channel")
    deliver(local)
    [refusal] = calls(local, "chat.postEphemeral", channel=TRIAGE, user=OUTSIDER)
    assert "only IT staff" in refusal.args["text"] and refusal.args["thread_ts"] == card.response["ts"]
    assert comments(local, key) == [] and dm_posts(local) == []


def reply_submission(key: str, text: str, *, user: str, channel: str = TRIAGE) -> dict[str, Any]:
    """The Reply modal's view_submission as Slack sends it."""
    view = {"id": "V0REPLY" + uuid.uuid4().hex[:6].upper(), "team_id": "T111", "type": "modal",
            "callback_id": "helpdesk.triage_reply", "private_metadata": f"{key}|{channel}",
            "hash": uuid.uuid4().hex[:16], "blocks": [],
            "state": {"values": {"reply": {"value": {"type": "plain_text_input", "value": text}}}}}
    return {"type": "view_submission", "team": {"id": "T111", "domain": "example"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T111"},
            "api_app_id": "A111", "token": "verification_token", "trigger_id": "1.2.valid", "view": view}


def test_a_forged_reply_submission_from_outside_it_is_refused(local: SlackStack) -> None:
    """The modal's metadata comes from the client: who may reply is decided from our records."""
    from bot.channels.slack.triage_access import ItStaff

    key, _card = new_ticket_with_card(local, "Laptop bag strap broke")
    local.fake.members.update({"C0OUTSIDE1": [OUTSIDER], TRIAGE: [AGENT]})
    desk = local.adapter.triage
    configured = desk.staff
    # no IT channel or group configured: IT is whoever is in the card's channel
    slack = local.services.settings.slack.model_copy(update={"it_channel": None, "it_usergroup": None})
    desk.staff = ItStaff(local.adapter.client, slack)
    local.fake.reset()
    try:
        local.interactive(reply_submission(key, "Ha, it's me", user=OUTSIDER, channel="C0OUTSIDE1"))
    finally:
        desk.staff = configured
    deliver(local)
    assert comments(local, key) == [] and dm_posts(local) == []
    assert any("only IT staff" in c.args["text"] for c in calls(local, "chat.postEphemeral", user=OUTSIDER))


def test_reply_modal_reaches_the_employee_and_shows_in_the_thread(local: SlackStack) -> None:
    key, card = new_ticket_with_card(local, "Need a second monitor")
    local.fake.reset()
    view = {"id": "V0REPLY" + uuid.uuid4().hex[:6].upper(), "team_id": "T111", "type": "modal",
            "callback_id": "helpdesk.triage_reply", "private_metadata": f"{key}|{TRIAGE}",
            "hash": uuid.uuid4().hex[:16], "blocks": [],
            "state": {"values": {"reply": {"value": {"type": "plain_text_input",
                                                     "value": "One is on its way to your desk."}}}}}
    body = {"type": "view_submission", "team": {"id": "T111", "domain": "example"},
            "user": {"id": AGENT, "username": "ivy", "name": "ivy", "team_id": "T111"},
            "api_app_id": "A111", "token": "verification_token", "trigger_id": "1.2.valid", "view": view}
    assert local.interactive(body).status_code == 200
    local.interactive(body)  # Slack retried the submission
    deliver(local)
    assert [c for c in dm_posts(local) if "One is on its way" in str(c.args.get("text"))]
    assert comments(local, key) == [(AGENT_NAME, "One is on its way to your desk.", False)]
    [shown] = in_card_thread(local, card)
    assert AGENT_NAME in shown.args["text"] and "One is on its way" in shown.args["text"]


# --------------------------------------------------------------------------- Jira
def test_jira_relay_both_ways_with_one_comment_each_and_no_echo(on_jira: SlackStack, jira: Any) -> None:
    from integrations.ticketing.webhook import handle_delivery
    from tests.ticketing.conftest import WEBHOOK_SECRET
    from tests.ticketing.webhooks import example

    key, card = new_ticket_with_card(on_jira, "SAP login fails")
    assert "Open in Jira" in text_of_blocks(card)  # the URL button, with Jira
    on_jira.fake.reset()
    click(on_jira, card, "Claim", user=AGENT)  # Jira tickets are claimed in Jira: said privately
    [said] = calls(on_jira, "chat.postEphemeral", user=AGENT)
    assert "work it in Jira" in said.args["text"] and ticket(on_jira, key).assignee is None
    dm = it_replies_in_the_card_thread(on_jira, key, card, "Please clear the SAP cache and retry.")
    assert AGENT_NAME in dm.args["text"] and "From IT" in text_of_blocks(dm)

    run_outbox(on_jira)
    run_outbox(on_jira)
    in_jira = [c for c in jira.state.comments.get(key, []) if "clear the SAP cache" in json.dumps(c["body"])]
    assert len(in_jira) == 1  # created once

    # Jira tells the bot about that comment: it is the bot's own, so the employee hears nothing new
    [row] = [t for t in _tickets(on_jira) if t.key == key]
    delivery = json.loads(example("mattermost-webhook-cloud-comment-created.json", row))
    delivery["comment"].update(id=in_jira[0]["id"], body=in_jira[0]["body"])
    with on_jira.services.db.session() as session:
        outcome = handle_delivery(session, on_jira.services.settings.ticketing.jira.webhook_secret,
                                  on_jira.services.notices, body=json.dumps(delivery).encode(), headers={},
                                  query_secret=WEBHOOK_SECRET)
    assert outcome.status == "ignored"
    on_jira.fake.reset()
    deliver(on_jira)
    assert dm_posts(on_jira) == []

    # the employee answers in the DM thread: a Jira comment (once) and the card's thread
    employee_answers(on_jira, dm, "Cleared it, same error: RFC 401")
    run_outbox(on_jira)
    run_outbox(on_jira)
    answers = [c for c in jira.state.comments.get(key, []) if "RFC 401" in json.dumps(c["body"])]
    assert len(answers) == 1
    [shown] = in_card_thread(on_jira, card)
    assert "RFC 401" in shown.args["text"]


def test_a_comment_made_in_jira_reaches_the_employee_once_in_the_ticket_thread(on_jira: SlackStack,
                                                                               jira: Any) -> None:
    from integrations.ticketing.webhook import handle_delivery
    from tests.ticketing.conftest import WEBHOOK_SECRET
    from tests.ticketing.webhooks import example

    key, card = new_ticket_with_card(on_jira, "Shared mailbox missing")
    [row] = [t for t in _tickets(on_jira) if t.key == key]
    delivery = example("mattermost-webhook-cloud-comment-created.json", row)
    on_jira.fake.reset()
    for _ in range(2):  # Jira retries the delivery
        with on_jira.services.db.session() as session:
            handle_delivery(session, on_jira.services.settings.ticketing.jira.webhook_secret,
                            on_jira.services.notices, body=delivery, headers={}, query_secret=WEBHOOK_SECRET)
        deliver(on_jira)
    posts = dm_posts(on_jira)
    assert len(posts) == 1 and "From IT" in text_of_blocks(posts[0]) and key in posts[0].args["text"]


def _tickets(stack: SlackStack) -> list[Any]:
    from integrations.ticketing.models import Ticket

    with stack.services.db.session() as session:
        rows = list(session.scalars(select(Ticket)).all())
        for row in rows:
            session.expunge(row)
        return rows


def test_a_flood_of_thread_answers_is_limited_like_any_turn(local: SlackStack) -> None:
    """The employee's DM-thread answers count against the per-user turn rate (told once to slow down)."""
    key, card = new_ticket_with_card(local, "Calendar invites vanish")
    dm = it_replies_in_the_card_thread(local, key, card, "Which calendar app?")
    limiter = local.adapter.intake.limiter
    limit, limiter.limit = limiter.limit, 2
    told = []
    try:
        for i in range(4):
            employee_answers(local, dm, f"answer number {i}")
            told += [c for c in dm_posts(local) if "faster than I can answer" in str(c.args.get("text"))]
    finally:
        limiter.limit = limit
    relayed = [body for _author, body, mine in comments(local, key) if mine]
    assert len(relayed) <= 2 and "answer number 3" not in relayed
    assert len(told) == 1  # told once per window, like any flooding turn
