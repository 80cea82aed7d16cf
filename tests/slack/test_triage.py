"""IT triage in Slack: each new ticket is a card with Claim / Reply / Resolve that IT staff work in place.

Everything arrives as Slack sends it (signed Events API and interactivity payloads
on ``/slack/events``); every Web API call is checked by the spec-validating fake,
Block Kit limits included. Notifications go through the real outbox
(``deliver_pending``), as the background worker sends them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.slack.conftest import EMPLOYEE, SlackStack, build_settings
from tests.slack.fake_slack import FakeSlack

TRIAGE = "C0TRIAGE01"
IT_CHANNEL = "C0ITSTAFF1"
AGENT, AGENT_NAME = "U0ITAGENT1", "Ivy Tran"
OUTSIDER = "W111"  # Alex Kim: in the workspace, not in IT


# --------------------------------------------------------------------------- the stack
def triage_stack(tmp: Path, fake: FakeSlack, models: Path, ticketing: dict[str, Any] | None = None,
                 ) -> Iterator[SlackStack]:
    """The app on a fresh database with a triage channel and an IT channel (and ``ticketing`` if given)."""
    from starlette.testclient import TestClient

    from bot.server import create_app
    from bot.services import Services
    from bot.storage import migrate
    from bot.web.slack import slack_adapter
    from integrations.ticketing.settings import TicketingSettings

    fake.add_user(AGENT, "ivy.tran@example.com", AGENT_NAME)
    fake.members[IT_CHANNEL] = [AGENT, "U0ITOTHER1"]
    settings = build_settings(tmp, f"sqlite:///{tmp / 'helpdesk.db'}", fake, models=models,
                              triage_channel=TRIAGE, it_channel=IT_CHANNEL)
    section = {"duplicate_method": "off", **(ticketing or {})}
    settings = settings.model_copy(update={"ticketing": TicketingSettings.model_validate(section)})
    services = Services(settings)
    migrate.upgrade(services.db)
    app = create_app(services, start_workers=False)
    with TestClient(app) as client:
        adapter = slack_adapter(app)
        adapter.triage.stop()  # the tests run the card sync themselves (sync_once), deterministically
        yield SlackStack(fake=fake, services=services, adapter=adapter, client=client)
    services.db.dispose()


@pytest.fixture(scope="module")
def stack(fake_slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[SlackStack]:
    yield from triage_stack(tmp_path_factory.mktemp("triage"), fake_slack, models_dir)


# --------------------------------------------------------------------------- driving it
def open_ticket(stack: SlackStack, summary: str, *, user: str = EMPLOYEE) -> str:
    """The employee submits the ticket form (the real engine); returns the new key."""
    from bot.engine import Engine
    from bot.messages import Action, Message

    reply = Engine(stack.services).handle(Message(
        text="", user_key=f"slack:{user}", channel="slack", email="dana.lee@example.com", display_name="Dana Lee",
        action=Action("ticket.submit", {"summary": summary, "details": f"{summary}. Since this morning.",
                                        "urgency": "high"})))
    assert reply.ticket_key or reply.outcome.value == "escalated", reply.text
    return str(reply.ticket_key)


def deliver(stack: SlackStack) -> int:
    """One round of the notification outbox, as the worker runs it."""
    from bot.notify import deliver_pending

    return deliver_pending(stack.services)


def calls(stack: SlackStack, method: str, **match: Any) -> list[Any]:
    return [c for c in stack.fake.calls_to(method, ok_only=True)
            if all(c.args.get(k) == v for k, v in match.items())]


def blocks_of(call: Any) -> list[dict[str, Any]]:
    raw = call.args.get("blocks")
    return json.loads(raw) if isinstance(raw, str) else list(raw or [])


def card_of(stack: SlackStack, key: str) -> Any:
    """The chat.postMessage that posted ``key``'s card."""
    posts = [c for c in calls(stack, "chat.postMessage", channel=TRIAGE)
             if not c.args.get("thread_ts") and key in str(c.args.get("text"))]
    assert len(posts) == 1, f"expected one card for {key}, got {len(posts)}"
    return posts[0]


def buttons(call: Any) -> dict[str, dict[str, Any]]:
    """The card's buttons by label."""
    found = {}
    for block in blocks_of(call):
        if block.get("type") == "actions":
            for element in block["elements"]:
                found[element["text"]["text"]] = element
    return found


def click(stack: SlackStack, card: Any, label: str, *, user: str) -> Any:
    """A block_actions payload for pressing ``label`` on the card, as Slack sends it (signed, form-encoded)."""
    element = buttons(card)[label]
    ts = card.response["ts"]
    payload = {
        "type": "block_actions", "user": {"id": user, "username": user.lower(), "team_id": "T111"},
        "api_app_id": "A111", "token": "verification_token", "team": {"id": "T111", "domain": "example"},
        "container": {"type": "message", "message_ts": ts, "channel_id": TRIAGE, "is_ephemeral": False},
        "trigger_id": f"{uuid.uuid4().int % 10**9}.{uuid.uuid4().int % 10**9}.valid",
        "channel": {"id": TRIAGE, "name": "it-triage"},
        "message": {"type": "message", "ts": ts, "text": card.args.get("text"), "blocks": blocks_of(card)},
        "response_url": "https://hooks.slack.com/actions/T111/111/random-value",
        "actions": [{"action_id": element["action_id"], "block_id": "triage_actions", "text": element["text"],
                     "value": element["value"], "type": "button",
                     "action_ts": f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().int % 10**6}"}],
    }
    return stack.interactive(payload)


def ticket(stack: SlackStack, key: str) -> Any:
    from integrations.ticketing.service import find_ticket

    with stack.services.db.session() as session:
        found = find_ticket(session, key)
        assert found is not None
        session.expunge(found)
        return found


def text_of_blocks(call: Any) -> str:
    return json.dumps(blocks_of(call), ensure_ascii=False)


# --------------------------------------------------------------------------- the tests
def test_a_new_ticket_posts_a_card_with_the_buttons(stack: SlackStack) -> None:
    key = open_ticket(stack, "Laptop will not boot")
    assert deliver(stack) == 1  # the card (the employee had their answer in the turn)
    card = card_of(stack, key)
    shown = text_of_blocks(card)
    for expected in ("Laptop will not boot", "Category", "Urgency", "High", "Requester", f"<@{EMPLOYEE}>",
                     "dana.lee@example.com", "Claimed by", "nobody yet", "Open"):
        assert expected in shown, expected
    assert list(buttons(card)) == ["Claim", "Reply", "Resolve"]  # no "Open in Jira" for the local queue
    assert "confirm" in buttons(card)["Resolve"]  # resolving asks first
    assert deliver(stack) == 0  # posted once


def test_claim_by_it_updates_the_card_in_place_and_assigns(stack: SlackStack) -> None:
    key = open_ticket(stack, "Printer on floor 3 jams")
    deliver(stack)
    card = card_of(stack, key)
    assert click(stack, card, "Claim", user=AGENT).status_code == 200
    assert ticket(stack, key).assignee == AGENT_NAME
    assert ticket(stack, key).status == "In Progress"
    deliver(stack)
    [update] = calls(stack, "chat.update", channel=TRIAGE, ts=card.response["ts"])
    shown = text_of_blocks(update)
    assert AGENT_NAME in shown and "In Progress" in shown and "nobody yet" not in shown
    assert not calls(stack, "chat.postMessage", channel=TRIAGE, text=update.args["text"])  # not a new post

    from sqlalchemy import select

    from integrations.ticketing.models import TicketEvent

    with stack.services.db.session() as session:
        actors = {(e.kind, e.actor) for e in session.scalars(select(TicketEvent)).all()}
    assert ("assigned", AGENT_NAME) in actors and ("slack_claim", AGENT_NAME) in actors  # audited
    assert "Last activity: claimed by Ivy Tran" in shown
    from bot.console.models import ConsoleAction  # and in the console's audit log

    with stack.services.db.session() as session:
        logged = session.scalars(select(ConsoleAction).where(ConsoleAction.target == key)).all()
        assert [(a.actor, a.action) for a in logged] == [("ivy.tran@example.com", "ticket.claim")]


def test_someone_outside_it_is_refused_privately_and_nothing_changes(stack: SlackStack) -> None:
    key = open_ticket(stack, "Monitor flickers")
    deliver(stack)
    card = card_of(stack, key)
    before = ticket(stack, key)
    stack.fake.reset()
    for label in ("Claim", "Resolve", "Reply"):
        click(stack, card, label, user=OUTSIDER)
    refusals = calls(stack, "chat.postEphemeral", channel=TRIAGE, user=OUTSIDER)
    assert len(refusals) == 3 and all("only IT staff" in c.args["text"] for c in refusals)
    assert not calls(stack, "views.open")
    after = ticket(stack, key)
    assert (after.assignee, after.status) == (before.assignee, before.status) == (None, "Open")
    deliver(stack)
    assert not calls(stack, "chat.update") and not calls(stack, "chat.postMessage")


def test_reply_button_opens_a_modal_for_it_staff(stack: SlackStack) -> None:
    key = open_ticket(stack, "Headset has no sound")
    deliver(stack)
    click(stack, card_of(stack, key), "Reply", user=AGENT)
    [opened] = calls(stack, "views.open")
    view = opened.args["view"] if isinstance(opened.args["view"], dict) else json.loads(opened.args["view"])
    assert view["callback_id"] == "helpdesk.triage_reply" and view["private_metadata"].startswith(f"{key}|")


def test_resolve_from_the_card_tells_the_employee_once(stack: SlackStack) -> None:
    key = open_ticket(stack, "Cannot open the shared drive")
    deliver(stack)
    card = card_of(stack, key)
    stack.fake.reset()
    click(stack, card, "Resolve", user=AGENT)
    click(stack, card, "Resolve", user=AGENT)  # a second press: already resolved, said privately
    assert ticket(stack, key).status_category == "done"
    deliver(stack)
    deliver(stack)
    dm = stack.fake.dm_of(EMPLOYEE)
    told = [c for c in calls(stack, "chat.postMessage", channel=dm) if "is resolved" in str(c.args.get("text"))]
    assert len(told) == 1
    [update] = calls(stack, "chat.update", channel=TRIAGE, ts=card.response["ts"])
    assert "Resolved" in text_of_blocks(update)
    assert [b["text"]["text"] for b in buttons(update).values()] == ["Reply"]  # nothing left to claim/resolve
    assert any("already resolved" in c.args["text"] for c in calls(stack, "chat.postEphemeral", user=AGENT))


def test_a_change_made_elsewhere_updates_the_card(stack: SlackStack) -> None:
    """The CLI / console call the same queue rules; the sync finds the change and updates the card once."""
    from integrations.ticketing import queue

    key = open_ticket(stack, "Keyboard missing keys")
    deliver(stack)
    card = card_of(stack, key)
    with stack.services.db.session() as session:
        queue.assign(session, key, "Omar (IT)", actor="Omar (IT)", sink=stack.services.notices)
    triage = stack.adapter.triage
    assert triage.sync_once() == 1
    assert triage.sync_once() == 0  # queued once, across rounds (and replicas)
    deliver(stack)
    [update] = calls(stack, "chat.update", channel=TRIAGE, ts=card.response["ts"])
    assert "Omar (IT)" in text_of_blocks(update)
    assert triage.sync_once() == 0


def test_a_notice_from_elsewhere_updates_the_card_without_waiting_for_the_sync(stack: SlackStack) -> None:
    """An IT comment or a resolution made in the console / CLI / Jira webhook reaches the card through the
    notice router in the same transaction: no sync round needed, and the sync then finds nothing to add."""
    from integrations.ticketing import queue

    key = open_ticket(stack, "Headset microphone is muted")
    deliver(stack)
    card = card_of(stack, key)
    with stack.services.db.session() as session:
        queue.comment(session, key, "Try the other USB port, please", author="Omar (IT)",
                      sink=stack.services.notices)
    deliver(stack)
    updates = calls(stack, "chat.update", channel=TRIAGE, ts=card.response["ts"])
    assert len(updates) == 1 and "Omar (IT)" in text_of_blocks(updates[0])
    assert stack.adapter.triage.sync_once() == 0  # nothing left for the safety net
    with stack.services.db.session() as session:
        queue.resolve(session, key, resolution="Done", closing_comment=None, actor="Omar (IT)",
                      sink=stack.services.notices)
    stack.fake.reset()
    deliver(stack)
    [update] = calls(stack, "chat.update", channel=TRIAGE, ts=card.response["ts"])
    assert "Resolved" in text_of_blocks(update)
    assert stack.adapter.triage.sync_once() == 0


def test_cards_survive_a_slack_outage(stack: SlackStack) -> None:
    """Slack down when the card is due: it waits in the outbox and is posted once when Slack is back."""
    key = open_ticket(stack, "Wi-Fi drops in room 12")
    stack.fake.fail_next("chat.postMessage", error="internal_error")
    deliver(stack)
    assert not [c for c in calls(stack, "chat.postMessage", channel=TRIAGE) if key in str(c.args.get("text"))]
    from sqlalchemy import update

    from bot.storage.base import utcnow
    from bot.storage.models import Notification

    with stack.services.db.session() as session:
        session.execute(update(Notification).where(Notification.status == "pending").values(next_attempt_at=utcnow()))
    assert deliver(stack) == 1
    card_of(stack, key)
    assert deliver(stack) == 0



def test_it_staff_can_be_a_user_group(stack: SlackStack) -> None:
    """``slack.it_usergroup``: its members (usergroups.users.list) may claim; the IT channel's may not."""
    from bot.channels.slack.triage_access import ItStaff

    key = open_ticket(stack, "Docking station not charging")
    deliver(stack)
    card = card_of(stack, key)
    stack.fake.members["S0ITGROUP1"] = [OUTSIDER]
    desk = stack.adapter.triage
    configured = desk.staff
    slack = stack.services.settings.slack.model_copy(update={"it_channel": None, "it_usergroup": "S0ITGROUP1"})
    desk.staff = ItStaff(stack.adapter.client, slack)
    stack.fake.reset()
    try:
        click(stack, card, "Claim", user=AGENT)  # in the IT channel, but that is not the setting now
        assert ticket(stack, key).assignee is None
        click(stack, card, "Claim", user=OUTSIDER)
    finally:
        desk.staff = configured
    assert ticket(stack, key).assignee == "Alex Kim"
    assert [c.args["usergroup"] for c in calls(stack, "usergroups.users.list")] == ["S0ITGROUP1"]  # cached


def test_config_check_warns_when_anyone_in_the_triage_channel_is_it(tmp_path: Path) -> None:
    """Without an IT channel or user group, the triage channel's members are IT: config check says so."""
    from bot.config import load_settings
    from bot.health import check_configuration
    from tests.foundation.test_cli import config

    def slack_item(extra: str) -> dict[str, str]:
        env = config(tmp_path, '[slack]\nbot_token = "xoxb-test-1234-abcd"\n'
                               'signing_secret = "signing-secret-for-tests-0123"\n'
                               f'triage_channel = "C0TRIAGE1"\n{extra}')
        report = check_configuration(load_settings(Path(env["HELPDESK_CONFIG"]), environ={}))
        return next(i for i in report["integrations"] if i["name"] == "slack")

    open_door = slack_item("")
    assert open_door["status"] == "warning" and "keep that channel private" in open_door["details"]
    assert slack_item('it_usergroup = "S0ITSTAFF"\n')["status"] == "ok"


def test_with_the_database_down_a_card_click_is_answered_not_dropped(fake_slack: FakeSlack, tmp_path: Path,
                                                                     models_dir: Path) -> None:
    """The triage surface's payloads go through the one intake: no durable record → the clicker is told."""
    import urllib.parse

    from slack_bolt.request import BoltRequest

    from bot.channels.slack import texts
    from bot.channels.slack.adapter import build_slack_adapter
    from bot.services import Services
    from tests.slack.conftest import sign

    services = Services(build_settings(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:9/none", fake_slack,
                                       models=models_dir, triage_channel=TRIAGE, it_channel=IT_CHANNEL))
    adapter = build_slack_adapter(services)
    fake_slack.reset()
    payload = {
        "type": "block_actions", "user": {"id": AGENT, "username": "ivy", "team_id": "T111"},
        "api_app_id": "A111", "token": "verification_token", "team": {"id": "T111", "domain": "example"},
        "container": {"type": "message", "message_ts": "1730000000.000100", "channel_id": TRIAGE,
                      "is_ephemeral": False},
        "trigger_id": "111.222.valid", "channel": {"id": TRIAGE, "name": "it-triage"},
        "message": {"type": "message", "ts": "1730000000.000100", "text": "IT-42 · card"},
        "actions": [{"action_id": "hd.0.triage.claim", "block_id": "triage_actions", "type": "button",
                     "text": {"type": "plain_text", "text": "Claim"}, "action_ts": "1730000001.000200",
                     "value": json.dumps({"a": "triage.claim", "v": {"key": "IT-42"}})}],
    }
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    headers = {"content-type": "application/x-www-form-urlencoded", **{k.lower(): v for k, v in sign(body).items()}}
    try:
        assert adapter.app.dispatch(BoltRequest(body=body, headers=headers)).status == 200
        assert adapter.wait_idle(60)
        told = [c.args["text"] for c in fake_slack.calls_to("chat.postEphemeral", ok_only=True)
                if c.args["user"] == AGENT]
        assert told == [texts.COULD_NOT_PROCESS]
    finally:
        adapter.shutdown()
        services.db.dispose()
