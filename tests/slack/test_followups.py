"""Follow-ups in Slack: the reminder while IT waits, "Did this fix it?" (Yes / Reopen with words).

Delivery goes through the real notification outbox and the real background jobs
(:class:`bot.worker.Worker`), with two worker instances at once and a restarted one on the same
database (SQLite, and PostgreSQL when configured); the answers go through the signed HTTP endpoint
against the spec-validating Slack fake, for the local queue and for the Jira fake.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.channels.slack.blocks import encode_value
from tests.slack.conftest import CLICKER, SlackStack, build_settings, example
from tests.slack.fake_slack import FakeSlack

REQUESTER = f"slack:{CLICKER}"
STRANGER = "U111"  # uma.chen: not the requester


# --- helpers ---------------------------------------------------------------------
def new_ticket(services: Any, key: str, *, backend: str = "local", requester: str = REQUESTER) -> None:
    from integrations.ticketing.models import Ticket

    with services.db.session() as session:
        session.add(Ticket(key=key, idem_key=f"helpdesk-test-{key}", backend=backend, requester_user_key=requester,
                           requester_email="alex.kim@example.com", participants=[], summary="VPN drops hourly",
                           description="VPN drops hourly", status="Open", status_category="open",
                           components=[], labels=[], extra={}))


def resolve(services: Any, key: str) -> None:
    from integrations.ticketing import queue

    with services.db.session() as session:
        queue.resolve(session, key, resolution="Fixed", closing_comment=None, actor="Dana (IT)",
                      sink=services.notices)


def ticket(services: Any, key: str) -> Any:
    from integrations.ticketing.models import Ticket

    with services.db.session() as session:
        return session.scalars(select(Ticket).where(Ticket.key == key)).one()


def requester_comments(services: Any, key: str) -> list[str]:
    from integrations.ticketing.models import TicketComment

    t = ticket(services, key)
    with services.db.session() as session:
        return [c.body for c in session.scalars(select(TicketComment).where(
            TicketComment.ticket_id == t.id, TicketComment.from_requester.is_(True)))]


def posts_saying(fake: FakeSlack, words: str) -> list[Any]:
    return [c for c in fake.calls_to("chat.postMessage", ok_only=True) if words in c.args.get("text", "")]


def button_actions(call: Any) -> list[str]:
    return [json.loads(e["value"])["a"] for b in call.args["blocks"] if b["type"] == "actions"
            for e in b["elements"]]


def click(stack: SlackStack, action_id: str, value: dict[str, Any], *, user: str = CLICKER,
          message: dict[str, Any] | None = None) -> Any:
    payload = json.loads(json.dumps(example("block_actions.json")))
    if message is not None:  # the message the button is in (Slack sends it with the click)
        payload["message"] = {"type": "message", "ts": "111.222", **message}
    payload["actions"][0].update(action_id=f"hd.3.{action_id}", value=encode_value(action_id, value),
                                 action_ts=f"{uuid.uuid4().int % 10**9}.000100")  # a new click each time
    payload["user"]["id"] = user
    payload["container"] = {"type": "message", "message_ts": "111.222", "channel_id": FakeSlack.dm_of(user),
                            "is_ephemeral": False}
    payload["channel"] = {"id": FakeSlack.dm_of(user), "name": "directmessage"}
    return stack.interactive(payload)


def submit_reopen(stack: SlackStack, view: dict[str, Any], words: str, *, user: str = CLICKER) -> Any:
    submission = json.loads(json.dumps(example("view_submission.json")))
    submission["user"]["id"] = user
    submission["view"].update({"callback_id": view["callback_id"], "private_metadata": view["private_metadata"],
                               "blocks": view["blocks"],
                               "state": {"values": {"words": {"value": {"type": "plain_text_input",
                                                                        "value": words}}}}})
    return stack.interactive(submission)


def open_reopen_modal(stack: SlackStack, key: str) -> dict[str, Any]:
    stack.fake.reset()
    click(stack, "followup.reopen", {"key": key})
    [opened] = stack.fake.calls_to("views.open", ok_only=True)
    assert opened.args["view"]["callback_id"] == "helpdesk.followup_reopen"
    return dict(opened.args["view"])


def bare_stack(tmp: Path, fake: FakeSlack, models: Path, *, ticketing: dict[str, Any] | None = None,
               **slack: Any) -> Iterator[SlackStack]:
    """The server on a fresh SQLite database, without importing the knowledge base (no test here asks it)."""
    from starlette.testclient import TestClient

    from bot.server import create_app
    from bot.services import Services
    from bot.storage import migrate
    from bot.web.slack import slack_adapter

    settings = build_settings(tmp, f"sqlite:///{tmp / 'helpdesk.db'}", fake, models=models, **slack)
    if ticketing is not None:
        settings = settings.model_copy(update={"ticketing": type(settings.ticketing).model_validate(ticketing)})
    services = Services(settings)
    migrate.upgrade(services.db)
    with TestClient(create_app(services, start_workers=False)) as client:
        yield SlackStack(fake=fake, services=services, adapter=slack_adapter(client.app), client=client)
    services.db.dispose()


@pytest.fixture(scope="module")
def stack(fake_slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[SlackStack]:
    yield from bare_stack(tmp_path_factory.mktemp("slack-followups"), fake_slack, models_dir)


# --- delivered once: two workers, then a restart ----------------------------------
class Replica:
    """One bot process without HTTP: Services, the Slack sender and the background jobs."""

    def __init__(self, settings: Any) -> None:
        from bot.channels.slack.adapter import build_slack_adapter
        from bot.services import Services
        from bot.worker import Worker

        self.services = Services(settings)
        self.adapter = build_slack_adapter(self.services)
        self.worker = Worker(self.services)
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.adapter.shutdown(5)
            self.services.db.dispose()


@pytest.fixture
def replicas(fake_slack: FakeSlack, database_url: str, tmp_path: Path, models_dir: Path) -> Iterator[Any]:
    from bot.storage import migrate
    from bot.storage.session import Database

    db = Database(database_url)
    migrate.upgrade(db)
    db.dispose()
    settings = build_settings(tmp_path, database_url, fake_slack, models=models_dir)
    made: list[Replica] = []

    def start() -> Replica:
        made.append(Replica(settings))
        return made[-1]

    yield start
    for replica in made:
        replica.close()


def rounds_at_once(*replicas: Replica, rounds: int = 2) -> None:
    """Each replica's worker runs ``rounds`` rounds of every background job, all replicas at once."""
    for _ in range(rounds):
        barrier = threading.Barrier(len(replicas))

        def run(replica: Replica, barrier: threading.Barrier) -> None:
            barrier.wait(10)
            replica.worker.run_once()

        threads = [threading.Thread(target=run, args=(r, barrier)) for r in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)


def test_fix_question_is_delivered_once_by_two_workers_and_after_a_restart(replicas: Any,
                                                                            fake_slack: FakeSlack) -> None:
    first, second = replicas(), replicas()
    new_ticket(first.services, "IT-901")
    resolve(first.services, "IT-901")
    rounds_at_once(first, second)
    first.close(), second.close()
    rounds_at_once(replicas())  # a restarted process on the same database
    [post] = posts_saying(fake_slack, "Did this fix it?")
    assert post.args["channel"] == fake_slack.dm_of(CLICKER)
    assert "IT-901" in post.args["text"] and "is resolved (Fixed)" in post.args["text"]
    # one message: the rating buttons and Yes / Reopen together, then the link
    assert button_actions(post)[:5] == ["ticket.rate"] * 3 + ["followup.fixed", "followup.reopen"]


def test_reminder_after_working_days_is_delivered_once_by_two_workers_and_after_a_restart(
        replicas: Any, fake_slack: FakeSlack) -> None:
    from bot.storage.base import utcnow
    from integrations.ticketing import queue
    from integrations.ticketing.models import TicketEvent

    first, second = replicas(), replicas()
    new_ticket(first.services, "IT-902")
    with first.services.db.session() as session:
        queue.set_status(session, "IT-902", "waiting", actor="Dana (IT)", sink=first.services.notices, tracker=None)
    rounds_at_once(first, second)
    assert len(posts_saying(fake_slack, "IT is waiting for your reply on IT-902")) == 1
    assert posts_saying(fake_slack, "A reminder") == []  # not due yet: 0 of 2 working days

    with first.services.db.session() as session:  # the waiting period began two weeks ago
        session.execute(update(TicketEvent).where(TicketEvent.kind == "waiting_on_employee")
                        .values(created_at=utcnow() - dt.timedelta(days=14)))
    rounds_at_once(first, second)
    first.close(), second.close()
    rounds_at_once(replicas())
    [reminder] = posts_saying(fake_slack, "A reminder")
    assert "IT-902" in reminder.args["text"] and "2 working days" in reminder.args["text"]
    assert reminder.args["channel"] == fake_slack.dm_of(CLICKER)


def test_no_reminder_when_the_employee_already_answered(replicas: Any, fake_slack: FakeSlack) -> None:
    from bot.storage.base import utcnow
    from integrations.ticketing import queue
    from integrations.ticketing.models import TicketComment, TicketEvent

    only = replicas()
    new_ticket(only.services, "IT-903")
    with only.services.db.session() as session:
        queue.set_status(session, "IT-903", "waiting", actor="Dana (IT)", sink=only.services.notices, tracker=None)
        session.flush()
        session.execute(update(TicketEvent).where(TicketEvent.kind == "waiting_on_employee")
                        .values(created_at=utcnow() - dt.timedelta(days=14)))
        t = queue.load(session, "IT-903")
        session.add(TicketComment(ticket_id=t.id, author="Alex", body="Here is the log", from_requester=True))
    rounds_at_once(only)
    assert posts_saying(fake_slack, "A reminder") == []


def test_working_days_skip_the_weekend() -> None:
    from integrations.ticketing.followups import add_working_days

    friday = dt.datetime(2026, 12, 4, 10, 0)
    assert add_working_days(friday, 1) == dt.datetime(2026, 12, 7, 10, 0)  # Monday
    assert add_working_days(friday, 2) == dt.datetime(2026, 12, 8, 10, 0)  # Tuesday
    assert add_working_days(dt.datetime(2026, 12, 5, 9, 0), 1) == dt.datetime(2026, 12, 7, 9, 0)  # Sat → Mon


# --- the answers, through /slack/events ----------------------------------------------
def test_yes_records_the_confirmation_once_as_a_positive_rating(stack: SlackStack) -> None:
    s = stack.services
    new_ticket(s, "IT-911")
    resolve(s, "IT-911")
    from bot.channels.slack.blocks import render_reply
    from bot.messages import Reply
    from tests.ticketing.conftest import notifications

    [note] = [n for n in notifications(s, REQUESTER) if "IT-911" in n.reply["text"] and "resolved" in n.reply["text"]]
    text, blocks = render_reply(Reply.from_dict(note.reply))  # the resolution message as it was posted
    click(stack, "followup.fixed", {"key": "IT-911"}, message={"text": text, "blocks": blocks})
    [updated] = stack.fake.calls_to("chat.update", ok_only=True)  # Yes / Reopen give way to the answer
    kept = [json.loads(e["value"])["a"] for b in updated.args["blocks"] if b["type"] == "actions"
            for e in b["elements"]]
    assert kept == ["ticket.rate"] * 3 and "You told IT it's fixed" in json.dumps(updated.args["blocks"])
    click(stack, "followup.fixed", {"key": "IT-911"})  # pressed twice (an older copy of the message)
    assert ticket(s, "IT-911").rating == 5
    from integrations.ticketing.models import TicketFollowUp

    with s.db.session() as session:
        assert [f.kind for f in session.scalars(select(TicketFollowUp))].count("fixed") == 1
    assert len(posts_saying(stack.fake, "glad IT-911 is fixed")) == 1
    assert len(posts_saying(stack.fake, "already told IT that IT-911 is fixed")) == 1


def test_reopen_from_slack_asks_for_words_and_reopens_the_local_ticket(stack: SlackStack) -> None:
    s = stack.services
    new_ticket(s, "IT-912")
    resolve(s, "IT-912")
    view = open_reopen_modal(stack, "IT-912")
    empty = submit_reopen(stack, view, "   ")
    assert empty.json()["response_action"] == "errors" and "words" in empty.json()["errors"]
    assert ticket(s, "IT-912").status_category == "done"

    response = submit_reopen(stack, view, "Still drops every hour, even on the office wifi")
    assert response.status_code == 200 and response.text in ("", "null")  # the modal closes
    t = ticket(s, "IT-912")
    assert (t.status, t.status_category, t.resolution) == ("Reopened", "open", None)
    assert requester_comments(s, "IT-912") == ["Still drops every hour, even on the office wifi"]
    assert len(posts_saying(stack.fake, "I've reopened IT-912")) == 1
    again = submit_reopen(stack, view, "and again")  # the same modal submitted twice
    assert again.json()["response_action"] == "errors"
    assert len(requester_comments(s, "IT-912")) == 1
    stack.fake.reset()
    click(stack, "followup.reopen", {"key": "IT-912"})  # the old message's button, once it is open again
    assert stack.fake.calls_to("views.open") == []
    assert len(posts_saying(stack.fake, "IT-912 is open again")) == 1


def test_someone_else_cannot_reopen_or_confirm(stack: SlackStack) -> None:
    s = stack.services
    new_ticket(s, "IT-913")
    resolve(s, "IT-913")
    view = open_reopen_modal(stack, "IT-913")  # the requester's modal, replayed by someone else
    stack.fake.reset()
    click(stack, "followup.reopen", {"key": "IT-913"}, user=STRANGER)
    assert stack.fake.calls_to("views.open") == []
    [refusal] = posts_saying(stack.fake, "can't find a ticket IT-913 of yours")
    assert refusal.args["channel"] == FakeSlack.dm_of(STRANGER)
    refused = submit_reopen(stack, view, "reopen it please", user=STRANGER)
    assert refused.json()["response_action"] == "errors"
    assert "of yours" in refused.json()["errors"]["words"]
    click(stack, "followup.fixed", {"key": "IT-913"}, user=STRANGER)
    t = ticket(s, "IT-913")
    assert (t.status_category, t.rating, requester_comments(s, "IT-913")) == ("done", None, [])


# --- Jira: the words as a Jira comment, the issue moved by its transition ---------------
@pytest.fixture(scope="module")
def jira_stack(fake_slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory,
               models_dir: Path) -> Iterator[tuple[SlackStack, Any]]:
    from tests.ticketing.conftest import jira_section, start_fake

    fake_jira = start_fake("cloud")
    for opened in bare_stack(tmp_path_factory.mktemp("slack-jira"), fake_slack, models_dir,
                             ticketing=jira_section(fake_jira, reopen_transition="To Do")):
        yield opened, fake_jira
    fake_jira.stop()
    assert fake_jira.state.violations == [], "requests the real Jira would reject"


def test_reopen_from_slack_reopens_the_jira_issue_with_the_words_as_a_comment(
        jira_stack: tuple[SlackStack, Any]) -> None:
    from integrations.ticketing.updates import apply_status
    from tests.ticketing.conftest import deliver_outbox, due_now, press

    stack, fake_jira = jira_stack
    s = stack.services
    press(s, CLICKER, "ticket.submit", {"summary": "VPN drops", "details": "error 812", "urgency": "high"})
    deliver_outbox(s)
    from integrations.ticketing.models import Ticket

    with s.db.session() as session:  # IT resolved it in Jira; the webhook applied it
        t = session.scalars(select(Ticket).where(Ticket.requester_user_key == REQUESTER,
                                                 Ticket.backend == "jira")).one()
        key = t.key
        apply_status(session, t, sink=s.notices, status="Done", category="done", resolution="Done")
    fake_jira.set_status(key, "done")

    view = open_reopen_modal(stack, key)
    submit_reopen(stack, view, "The VPN still drops with error 812")
    assert len(posts_saying(stack.fake, f"I've added what you wrote to {key} and asked IT to reopen it")) == 1
    due_now(s)
    deliver_outbox(s)  # one outbox row: the comment, then the reopen transition
    assert fake_jira.state.issues[key]["fields"]["status"]["name"] == "To Do"  # moved by the transition
    comments = json.dumps(fake_jira.state.comments.get(key, []))
    assert comments.count("The VPN still drops with error 812") == 1
    assert requester_comments(s, key) == ["The VPN still drops with error 812"]


def test_the_reopen_button_after_a_poor_rating_follows_the_same_rule_in_jira(
        jira_stack: tuple[SlackStack, Any]) -> None:
    """The chat's *Reopen* (after a poor rating) and Slack's modal are one rule: comment + transition, once."""
    from integrations.ticketing.models import Ticket
    from integrations.ticketing.updates import apply_status
    from tests.ticketing.conftest import deliver_outbox, due_now, press

    stack, fake_jira = jira_stack
    s = stack.services
    press(s, CLICKER, "ticket.submit", {"summary": "Printer jams", "details": "tray 2", "urgency": "normal"})
    deliver_outbox(s)
    with s.db.session() as session:
        t = session.scalars(select(Ticket).where(Ticket.requester_user_key == REQUESTER,
                                                 Ticket.summary.like("Printer jams%"))).one()
        key = t.key
        apply_status(session, t, sink=s.notices, status="Done", category="done", resolution="Done")
    fake_jira.set_status(key, "done")
    first = press(s, CLICKER, "ticket.reopen", {"key": key})
    assert f"asked IT to reopen {key}" in first.text
    again = press(s, CLICKER, "ticket.reopen", {"key": key})  # Jira has not moved it yet: not twice
    assert "already reopened" in again.text
    due_now(s)
    deliver_outbox(s)
    assert fake_jira.state.issues[key]["fields"]["status"]["name"] == "To Do"
    assert json.dumps(fake_jira.state.comments.get(key, [])).count("please reopen this ticket") == 1
    assert len(requester_comments(s, key)) == 1
