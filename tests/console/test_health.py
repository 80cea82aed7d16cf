"""The health page: delivery queues (ticket outbox to Jira, chat notifications), "retry now" for failed
rows, and the integration status of `helpdesk config check`, never showing a secret."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import closing
from html import unescape as html_unescape
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import shared_path
from tests.console.conftest import STAFF, ConsoleStack, build_console_stack, sign_in
from tests.console.test_tickets import csrf, dms, flashes, slack_section
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.slack.fake_slack import FakeSlack
from tests.ticketing.conftest import CLOUD_TOKEN, WEBHOOK_SECRET, deliver_outbox, jira_section, press, start_fake
from tests.ticketing.fake_jira import FakeJira

DANA = "W222"


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeSlack, FakeJira]]:
    """Slack and Jira Cloud fakes, each validating every request against its published spec."""
    slack = FakeSlack(shared_path("specs", "slack", "slack_web_openapi_v2.json")).start()
    slack.add_user(DANA, "dana.lee@example.com", "Dana Lee")
    jira = start_fake("cloud")
    yield slack, jira
    slack.stop()
    jira.stop()
    assert slack.violations == [], "calls the real Slack would reject"
    assert jira.state.violations == [], "requests the real Jira would reject"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, fakes: tuple[FakeSlack, FakeJira]) -> Iterator[ConsoleStack]:
    """The console with Slack and Jira (one delivery attempt: a Jira error leaves the row failed)."""
    slack, jira = fakes
    ticketing = {**jira_section(jira), "outbox_max_attempts": 1}
    with build_console_stack(tmp_path_factory.mktemp("health"), import_kb=False,
                             sections={"slack": slack_section(slack), "ticketing": ticketing}) as served:
        yield served


def stuck_notification(stack: ConsoleStack, slack: FakeSlack, text: str) -> int:
    """A notification Slack refused on its last allowed attempt (so it is "failed"), as the worker leaves it."""
    from bot.messages import Reply
    from bot.notify import MAX_ATTEMPTS, deliver_pending, enqueue
    from bot.storage.models import Notification

    with stack.db.session() as session:
        row = enqueue(session, user_key=f"slack:{DANA}", reply=Reply(text=text, ticket_key="NET-77"))
        assert row is not None
        session.flush()
        row.attempts = MAX_ATTEMPTS - 1
        row_id = row.id
    slack.fail_next("chat.postMessage", error="channel_not_found")
    deliver_pending(stack.services)
    with stack.db.session() as session:
        row = session.get(Notification, row_id)
        assert row is not None and row.status == "failed"
    return row_id


def test_a_stuck_notification_is_shown_and_retry_now_delivers_it(
        stack: ConsoleStack, fakes: tuple[FakeSlack, FakeJira], page: Any, screenshot: Any) -> None:
    from bot.notify import deliver_pending

    slack, _jira = fakes
    text = "Your ticket NET-77 (“VPN drops”) is resolved."
    row_id = stuck_notification(stack, slack, text)
    sign_in(stack, page, STAFF)
    page.goto(stack.url("/console/health"))
    summary = page.locator("#hl-summary tr", has=page.get_by_role("rowheader", name="Notifications: slack"))
    assert summary.locator("td[data-label=Failed]").inner_text() == "1"
    stuck = page.locator("#hl-notifications tr", has=page.get_by_text("SlackApiError"))
    assert stuck.count() == 1 and "failed" in stuck.inner_text() and "NET-77" in stuck.inner_text()
    screenshot(page, "health")

    page.get_by_role("button", name=f"Retry notification {row_id} now").click()
    assert f"Notification {row_id} requeued" in page.locator(".flashes").inner_text()
    assert page.get_by_role("button", name=f"Retry notification {row_id} now").count() == 0
    slack.reset()
    assert deliver_pending(stack.services) == 1
    assert any("NET-77" in m for m in dms(slack, DANA))
    page.reload()
    assert page.locator("#hl-notifications").count() == 0  # nothing stuck any more


def test_a_failed_escalation_is_requeued_and_reaches_jira(stack: ConsoleStack, fakes: tuple[FakeSlack, FakeJira]
                                                          ) -> None:
    from bot.console.models import ConsoleAction
    from integrations.ticketing.models import Ticket, TicketOutbox

    _slack, jira = fakes
    press(stack.services, DANA, "ticket.submit", {"summary": "Badge reader at door 4 is dead", "details": "red light",
                                                  "force": True}, email="dana.lee@example.com")
    jira.fail("500")
    try:
        assert deliver_outbox(stack.services).failed == 1
    finally:
        jira.fail(None)
    with stack.db.session() as session:
        row_id = session.scalars(select(TicketOutbox.id).where(TicketOutbox.status == "failed")).one()
    with closing(stack.client(STAFF)) as client:
        html = client.get("/console/health").text
        row = re.search(rf"<tr>\s*<td data-label=\"Row\">{row_id}</td>.*?</tr>", html, re.S)
        assert row and "Badge reader at door 4" in row.group(0) and ">failed<" in row.group(0)
        assert 'Retry outbox row' in row.group(0)
        done = client.post("/console/health/outbox/retry", data={"id": str(row_id), "csrf_token": csrf(html)})
        assert flashes(client.get(done.headers["location"]).text) == [
            ("ok", f"Requeued outbox row {row_id}: the worker sends it now.")]
        again = client.post("/console/health/outbox/retry", data={"id": str(row_id), "csrf_token": csrf(html)})
        assert flashes(client.get(again.headers["location"]).text) == [
            ("ok", f"Already queued (the worker retries it): {row_id}.")]
        bad = client.post("/console/health/outbox/retry", data={"id": "99999", "csrf_token": csrf(html)})
        assert flashes(client.get(bad.headers["location"]).text)[0][0] == "error"
    assert deliver_outbox(stack.services).delivered == 1
    with stack.db.session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.summary.startswith("Badge reader"))).one()
        assert ticket.key and ticket.status_category == "open"
        assert [a.action for a in session.scalars(select(ConsoleAction).where(
            ConsoleAction.action == "outbox.retry"))] == ["outbox.retry", "outbox.retry"]


def test_integration_status_is_shown_without_any_secret(stack: ConsoleStack) -> None:
    with closing(stack.client(STAFF)) as client:
        html = client.get("/console/health").text
    checks = re.search(r'<table class="tk-table" id="hl-checks">.*?</table>', html, re.S)
    assert checks
    names = re.findall(r'<th scope="row">([^<]+)</th>', checks.group(0))
    assert {"database", "slack", "ticketing", "directory"} <= set(names)
    assert "live, Jira Cloud" in checks.group(0) and "credentials set" in checks.group(0)
    for secret in (BOT_TOKEN, SIGNING_SECRET, CLOUD_TOKEN, WEBHOOK_SECRET):
        assert secret not in html


def test_a_pull_channel_shows_its_oldest_waiting_notification(stack: ConsoleStack) -> None:
    from bot.messages import Reply
    from bot.notify import enqueue
    from bot.storage.base import utcnow

    with stack.db.session() as session:
        old = enqueue(session, user_key="terminal:someone", reply=Reply(text="hello"))
        assert old is not None
        old.created_at = utcnow() - dt.timedelta(hours=5, minutes=3)
    with closing(stack.client(STAFF)) as client:
        html = client.get("/console/health").text
    row = re.search(r'<tr><th scope="row">Notifications: terminal</th>(.*?)</tr>', html, re.S)
    assert row, "no row for the terminal channel"
    cells = dict(re.findall(r'<td data-label="(\w+)">([^<]*)</td>', row.group(1)))
    assert (cells["Pending"], cells["Failed"], cells["Oldest"]) == ("1", "0", "5 h")
    assert html_unescape(cells["How"]) == "no sender pushes this channel: the user gets them at their next message"
