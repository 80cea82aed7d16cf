"""IT staff work tickets in the console: the queue, a ticket's page and its actions (queue.py's rules),
the employee hearing comments and resolutions in Slack, Jira tickets' mirror, and role checks."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.errors import InvalidInputError
from tests.conftest import shared_path
from tests.console.conftest import ADMIN, NOBODY, STAFF, TRAINER, ConsoleStack, build_console_stack, sign_in
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.slack.fake_slack import FakeSlack
from tests.ticketing.conftest import deliver_outbox, jira_section, press, start_fake

DANA, UMA = "W222", "U111"  # employees with Slack accounts in the fake


@pytest.fixture(scope="module")
def fake_slack() -> Iterator[FakeSlack]:
    """Slack's Web API, validating every call against the published spec."""
    fake = FakeSlack(shared_path("specs", "slack", "slack_web_openapi_v2.json")).start()
    fake.add_user(DANA, "dana.lee@example.com", "Dana Lee")
    fake.add_user(UMA, "uma.chen@example.com", "Uma Chen")
    yield fake
    fake.stop()
    assert fake.violations == [], "calls the real Slack would reject"


def slack_section(fake: FakeSlack) -> dict[str, Any]:
    return {"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET, "api_base_url": fake.base_url,
            "socket_mode_in_server": False}


@pytest.fixture(scope="module")
def it_stack(tmp_path_factory: pytest.TempPathFactory, fake_slack: FakeSlack) -> Iterator[ConsoleStack]:
    """The console on the embedded local queue, with Slack (the fake) as the employees' channel."""
    with build_console_stack(tmp_path_factory.mktemp("it-console"), import_kb=False,
                             sections={"slack": slack_section(fake_slack),
                                       "ticketing": {"duplicate_method": "tokens"}}) as stack:
        yield stack


def submit(stack: ConsoleStack, user: str, email: str, **fields: Any) -> str:
    """An employee opens a ticket in chat (the real engine); returns its key."""
    reply = press(stack.services, user, "ticket.submit", {"force": True, **fields}, email=email)
    assert reply.ticket_key and "opened ticket" in reply.text, reply.text
    return str(reply.ticket_key)


def dms(fake: FakeSlack, user: str) -> list[str]:
    """Everything the bot posted in ``user``'s DM (text and blocks)."""
    return [json.dumps(c.args) for c in fake.calls_to("chat.postMessage", ok_only=True)
            if c.args.get("channel") == fake.dm_of(user)]


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def flashes(html: str) -> list[tuple[str, str]]:
    return re.findall(r'class="flash flash-(\w+)">([^<]*)<', html)


def audit_actions(stack: ConsoleStack, target: str) -> list[tuple[str, str]]:
    from bot.console.models import ConsoleAction

    with stack.db.session() as session:
        return [(a.actor, a.action) for a in session.scalars(
            select(ConsoleAction).where(ConsoleAction.target == target).order_by(ConsoleAction.id))]


def test_staff_filter_open_comment_note_and_resolve_and_the_employee_hears_it_in_slack(
        it_stack: ConsoleStack, fake_slack: FakeSlack, page: Any, screenshot: Any) -> None:
    from bot.notify import deliver_pending

    vpn = submit(it_stack, DANA, "dana.lee@example.com", summary="VPN drops every hour",
                 details="Error 812 when the VPN reconnects", urgency="high", category="vpn_issue")
    printer = submit(it_stack, UMA, "uma.chen@example.com", summary="Printer on floor 3 jams",
                     details="paper jam again", urgency="normal", category="printer")
    fake_slack.reset()
    sign_in(it_stack, page, STAFF)

    page.goto(it_stack.url("/console/tickets"))
    rows = page.locator("table.tk-table tbody tr")
    assert page.get_by_role("link", name=printer).is_visible() and page.get_by_role("link", name=vpn).is_visible()
    page.get_by_label("Urgency").select_option("high")
    page.get_by_label("Category").select_option("vpn_issue")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r".*urgency=high.*"))
    assert rows.count() == 1 and vpn in rows.first.inner_text()
    assert page.get_by_role("link", name=printer).count() == 0
    screenshot(page, "tickets-queue")

    page.get_by_role("link", name=vpn).click()
    assert "VPN drops every hour" in page.get_by_role("heading", level=1).inner_text()
    words = page.locator("section", has=page.get_by_role("heading", name="What the employee wrote"))
    assert "Error 812 when the VPN reconnects" in words.inner_text()
    assert "dana.lee@example.com" in page.locator("section", has=page.get_by_role(
        "heading", name="Requester")).inner_text()
    screenshot(page, "ticket")

    reply = "A technician will call you at 3 pm about the VPN."
    page.get_by_label("Reply to the employee (sent in Slack)").fill(reply)
    page.get_by_role("button", name="Send comment").click()
    assert "the employee will get it in chat" in page.locator(".flashes").inner_text()
    secret_note = "Known fault on gateway vpn-gw-2, do not tell users yet"
    page.get_by_label("Internal note (never sent to the employee)").fill(secret_note)
    page.get_by_role("button", name="Add note").click()
    assert "not sent to the employee" in page.locator(".flashes").inner_text()
    page.get_by_label("Resolution").fill("Fixed")
    page.get_by_role("button", name="Resolve").click()
    assert "resolved" in page.locator(".flashes").inner_text()
    assert page.locator("#tk-status").inner_text() == "Resolved"
    assert secret_note in page.locator("section.tk-notes").inner_text()

    assert deliver_pending(it_stack.services) >= 2  # the notification worker's round, through the Slack fake
    sent = dms(fake_slack, DANA)
    assert any("A technician will call you at 3 pm" in m for m in sent), sent
    assert any(vpn in m and "resolved" in m and "(Fixed)" in m for m in sent), sent
    everything_sent = [json.dumps(c.args) for c in fake_slack.calls]
    assert not any("vpn-gw-2" in m for m in everything_sent)  # the internal note reached nobody
    assert dms(fake_slack, UMA) == []
    assert audit_actions(it_stack, vpn) == [(STAFF, "ticket.comment"), (STAFF, "ticket.note"),
                                            (STAFF, "ticket.resolve")]


def test_refusals_are_shown_on_the_page_not_as_errors(it_stack: ConsoleStack) -> None:
    key = submit(it_stack, DANA, "dana.lee@example.com", summary="Outlook keeps asking for my password",
                 details="since Monday", category="email")
    with closing(it_stack.client(STAFF)) as client:
        token = csrf(client.get(f"/console/tickets/{key}").text)

        def post(action: str, **data: str) -> httpx.Response:
            done = client.post(f"/console/tickets/{key}/{action}", data={**data, "csrf_token": token})
            assert done.status_code == 303, done.text
            shown = client.get(done.headers["location"])
            assert shown.status_code == 200
            return shown

        assert flashes(post("reopen").text) == [
            ("error", f"{key} is not resolved (Open): only a resolved ticket can be reopened.")]
        assert flashes(post("category", category="not one word").text)[0][0] == "error"
        assert flashes(post("comment", text="   ").text) == [("error", "The comment is empty.")]
        assert flashes(post("link", other="IT-9999").text)[0] == (
            "error", "Ticket IT-9999 does not exist (see `helpdesk tickets list`).")
        assert flashes(post("status", status="waiting").text) == [("ok", f"{key} is now Waiting on employee.")]
        assert flashes(post("assign", to="me").text) == [("ok", f"{key} assigned to {STAFF}.")]
        assert flashes(post("resolve", resolution="Done").text)[0][0] == "ok"
        assert flashes(post("reopen").text)[0][0] == "ok"
        assert client.get("/console/tickets?urgency=urgentish").status_code == 400
        assert client.get("/console/tickets/IT-424242").status_code == 404
    # refused actions leave no audit row; the ones done leave one each
    assert [a for _, a in audit_actions(it_stack, key)] == ["ticket.status", "ticket.assign", "ticket.resolve",
                                                             "ticket.reopen"]


def test_link_and_merge_a_duplicate(it_stack: ConsoleStack) -> None:
    from integrations.ticketing.queue import show

    stays = submit(it_stack, DANA, "dana.lee@example.com", summary="Wi-Fi on floor 2 is down", details="no signal")
    other = submit(it_stack, UMA, "uma.chen@example.com", summary="Projector in room B flickers", details="hdmi")
    dup = submit(it_stack, UMA, "uma.chen@example.com", summary="No Wi-Fi near the kitchen",
                 details="nothing connects by the kitchen since 9am")
    with closing(it_stack.client(STAFF)) as client:
        token = csrf(client.get(f"/console/tickets/{stays}").text)
        linked = client.post(f"/console/tickets/{stays}/link", data={"other": other, "csrf_token": token})
        assert flashes(client.get(linked.headers["location"]).text) == [("ok", f"{stays} and {other} are linked.")]
        merged = client.post(f"/console/tickets/{dup}/link", data={"other": stays, "how": "merge",
                                                                   "csrf_token": token})
        page = client.get(merged.headers["location"]).text
        assert flashes(page) == [("ok", f"{dup} merged into {stays}; its requester is told.")]
        assert f'duplicate of <a href="/console/tickets/{stays}">{stays}</a>' in page
    with it_stack.db.session() as session:
        kept, gone = show(session, stays), show(session, dup)
    assert {(link["key"], link["relation"]) for link in kept["links"]} == {(other, "relates_to"),
                                                                          (dup, "duplicated_by")}
    assert gone["status_category"] == "done" and gone["resolution"] == f"Duplicate of {stays}"
    assert any(c["internal"] and "by the kitchen since 9am" in c["body"] for c in kept["comments"])


def test_the_queue_pages_and_sorts(it_stack: ConsoleStack) -> None:
    for n in range(27):
        submit(it_stack, UMA, "uma.chen@example.com", summary=f"Request number {n} for the paging test",
               details="x", category="paging_test", urgency="critical" if n == 3 else "low")
    with closing(it_stack.client(STAFF)) as client:
        first = client.get("/console/tickets", params={"category": "paging_test", "status": "all"}).text
        assert "27 tickets · page 1 of 2" in first and first.count("for the paging test") == 25
        second = client.get("/console/tickets", params={"category": "paging_test", "status": "all", "page": 2}).text
        assert second.count("for the paging test") == 2 and 'rel="prev"' in second
        urgent = client.get("/console/tickets", params={"category": "paging_test", "sort": "urgency"}).text
        assert urgent.index("Request number 3 ") < urgent.index("Request number 0 ")
        older = client.get("/console/tickets", params={"category": "paging_test", "age": "gt1d"}).text
        assert "0 tickets" in older


def test_a_jira_ticket_shows_its_jira_link_state_and_outbox(tmp_path: Path) -> None:
    fake = start_fake("cloud")
    try:
        with build_console_stack(tmp_path, import_kb=False, sections={"ticketing": jira_section(fake)}) as stack:
            press(stack.services, "alice", "ticket.submit", {"summary": "VPN drops", "details": "error 812"})
            assert deliver_outbox(stack.services).delivered == 1
            from integrations.ticketing.models import Ticket

            with stack.db.session() as session:
                ticket = session.scalars(select(Ticket)).one()
                key, url, ticket_id = ticket.key, ticket.url, ticket.id
            assert key and url
            # the employee adds a comment in chat; Jira answers 500 to its delivery: it waits for a retry
            press(stack.services, "alice", "ticket.comment_existing",
                  {"ticket_id": ticket_id, "key": key, "details": "Still dropping after the restart"})
            fake.fail("500")
            try:
                assert deliver_outbox(stack.services).retried == 1
            finally:
                fake.fail(None)
            with closing(stack.client(STAFF)) as client:
                html = client.get(f"/console/tickets/{key}").text
                assert f'href="{url}"' in html and "state in Jira (as last reported): <strong>Open</strong>" in html
                outbox = re.search(r'<table class="tk-table" id="tk-outbox">.*?</table>', html, re.S)
                assert outbox
                rows = [dict(re.findall(r'<td data-label="([\w ]+)">(?:<span[^>]*>)?([^<]*)', row))
                        for row in re.findall(r"<tr>(.*?)</tr>", outbox.group(0), re.S) if "<td" in row]
                assert [(r["Kind"], r["State"], r["Attempts"]) for r in rows] == [
                    ("create", "delivered", "1"), ("comment", "pending", "1")]
                assert rows[0]["Next retry"] == "-" and re.fullmatch(r"\d\d:\d\d:\d\d UTC", rows[1]["Next retry"])
                assert "Still dropping after the restart" in html  # the employee's comment, in the mirror
                moved = client.post(f"/console/tickets/{key}/status", data={"status": "in-progress",
                                                                             "csrf_token": csrf(html)})
                assert flashes(client.get(moved.headers["location"]).text) == [
                    ("ok", f"Asked Jira to move {key} to In Progress.")]
                # comments and resolving happen in Jira; an internal note goes to Jira as an internal comment
                assert "Send comment" not in html and "Resolve</button>" not in html
                done = client.post(f"/console/tickets/{key}/note", data={"text": "Checked the gateway logs",
                                                                         "csrf_token": csrf(html)})
                assert flashes(client.get(done.headers["location"]).text) == [
                    ("ok", f"Internal note added to {key} (not sent to the employee).")]
                forced = client.post(f"/console/tickets/{key}/comment", data={"text": "hi", "csrf_token": csrf(html)})
                assert flashes(client.get(forced.headers["location"]).text)[0][0] == "error"
    finally:
        fake.stop()
    assert fake.state.violations == [], "requests the real Jira would reject"


@pytest.mark.parametrize("email", [TRAINER, NOBODY])
def test_people_without_the_it_staff_role_are_refused_the_it_pages(it_stack: ConsoleStack, email: str) -> None:
    key = submit(it_stack, DANA, "dana.lee@example.com", summary="Laptop fan is loud", details="very loud")
    with closing(it_stack.client(ADMIN)) as admin:  # admin implies it-staff
        assert admin.get(f"/console/tickets/{key}").status_code == 200
    with closing(it_stack.client(email)) as client:
        for path in ("/console/tickets", f"/console/tickets/{key}", "/console/accounts", "/console/health"):
            assert client.get(path).status_code == 403, path
        token = csrf(client.get("/console/").text)
        refused = client.post(f"/console/tickets/{key}/comment", data={"text": "sneaky", "csrf_token": token})
        assert refused.status_code == 403
    assert audit_actions(it_stack, key) == []


def test_the_queue_filters_and_sorts_on_every_database(migrated_db: Any) -> None:
    """``queue.search`` (the console queue's query) on SQLite and, when configured, PostgreSQL."""
    from integrations.ticketing import queue
    from integrations.ticketing.models import Ticket
    from integrations.ticketing.service import new_idem_key

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [("IT-1", "low", "vpn_issue", None, 0), ("IT-2", "critical", "printer", "ann@example.com", 2),
            ("IT-3", "high", "vpn_issue", "ann@example.com", 10), ("IT-4", "normal", "vpn_issue", None, 40)]
    with migrated_db.session() as session:
        for key, urgency, category, assignee, days in rows:
            session.add(Ticket(key=key, idem_key=new_idem_key(), backend="local", requester_user_key="slack:W1",
                               summary=key, description="", urgency=urgency, category=category, assignee=assignee,
                               created_at=now - dt.timedelta(days=days, minutes=1), participants=[],
                               components=[], labels=[], extra={}))
    with migrated_db.session() as session:
        def keys(**kw: Any) -> list[str]:
            found, total = queue.search(session, **kw)
            assert total >= len(found)
            return [t["key"] for t in found]

        assert keys() == ["IT-1", "IT-2", "IT-3", "IT-4"]
        assert keys(sort="oldest") == ["IT-4", "IT-3", "IT-2", "IT-1"]
        assert keys(sort="urgency") == ["IT-2", "IT-3", "IT-4", "IT-1"]
        assert keys(category="vpn_issue", assignee="-") == ["IT-1", "IT-4"]
        assert keys(assignee="ann@example.com", urgency="high") == ["IT-3"]
        assert keys(min_age_days=3) == ["IT-3", "IT-4"] and keys(max_age_days=3) == ["IT-1", "IT-2"]
        assert keys(limit=2, offset=2) == ["IT-3", "IT-4"] and queue.search(session, limit=1)[1] == 4
        for bad in ({"status": "closed"}, {"urgency": "meh"}, {"sort": "random"}, {"min_age_days": -1}):
            with pytest.raises(InvalidInputError):
                queue.search(session, **bad)
