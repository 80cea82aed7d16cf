"""Hostile or malformed Jira webhook deliveries: a 4xx or "ignored", never a 5xx, never another ticket changed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from integrations.ticketing.models import Ticket, TicketComment
from tests.ticketing.conftest import WEBHOOK_SECRET


@pytest.fixture
def hook(migrated_db, make_settings, database_url):
    """A TestClient on the webhook route, with two Jira tickets: alice's IT-1 and bob's IT-2."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from bot.services import Services
    from bot.web.jira import build_router

    jira = {"url": "http://127.0.0.1:9", "email": "bot@example.com", "api_token": "tok-0123456789abcdef",
            "webhook_secret": WEBHOOK_SECRET}
    s = Services(make_settings(database_url, ticketing={"backend": "jira", "jira": jira}), migrated_db)
    with s.db.session() as session:
        for n, who in ((1, "alice"), (2, "bob")):
            session.add(Ticket(key=f"IT-{n}", idem_key=f"helpdesk-{n:032d}", backend="jira",
                               remote_id=f"1000{n}", requester_user_key=f"slack:{who}",
                               requester_email=f"{who}@example.com", participants=[], summary=f"{who}'s VPN",
                               description="d", status="Open", status_category="open", components=[],
                               labels=[], extra={}))
    app = FastAPI()
    app.include_router(build_router(s))
    client = TestClient(app, raise_server_exceptions=False)
    client.services = s  # type: ignore[attr-defined]
    return client


def _post(client, body: bytes | str, *, secret: str = WEBHOOK_SECRET):
    data = body.encode() if isinstance(body, str) else body
    return client.post("/webhooks/jira", content=data, params={"secret": secret},
                       headers={"Content-Type": "application/json"})


def _state(client, key: str) -> tuple[str, str, str | None, int]:
    with client.services.db.session() as session:
        t = session.scalars(select(Ticket).where(Ticket.key == key)).one()
        comments = len(session.scalars(select(TicketComment).where(TicketComment.ticket_id == t.id)).all())
        return t.status, t.status_category, t.assignee, comments


def test_deeply_nested_json_is_a_400_not_a_recursion_error(hook):
    nested = '{"webhookEvent": "jira:issue_updated", "issue": ' + "[" * 50_000 + "]" * 50_000 + "}"
    assert _post(hook, nested).status_code == 400
    for depth in (200, 3000):  # an ADF comment body nested deeper than any document Jira sends
        adf = '{"type": "paragraph", "content": [' * depth + '{"type": "text", "text": "hi"}' + "]}" * depth
        deep_comment = ('{"webhookEvent": "comment_created", "issue": {"key": "IT-1", "id": "10001"}, '
                        f'"comment": {{"id": "1", "author": {{"displayName": "Eve"}}, "body": {adf}}}}}')
        assert _post(hook, deep_comment).status_code == 400
    assert _state(hook, "IT-1") == ("Open", "open", None, 0)


@pytest.mark.parametrize("fields", [
    [1, 2], "Done", {"status": "Done"}, {"status": ["Done"]}, {"status": {"name": {"x": 1}}},
    {"assignee": "mallory", "status": {"name": "Done", "statusCategory": "done"}},
    {"status": {"name": "In Progress"}, "resolution": "Fixed", "updated": 12},
])
def test_wrongly_typed_fields_and_status_are_not_a_500(hook, fields):
    body = {"webhookEvent": "jira:issue_updated", "issue": {"key": "IT-1", "id": "10001", "fields": fields},
            "user": "not an object", "timestamp": 1e300}
    response = _post(hook, json.dumps(body))
    assert response.status_code < 500, response.text
    status, category, assignee, _ = _state(hook, "IT-1")
    assert category == "open" and assignee is None  # nothing typed wrongly was applied as a value
    assert status in ("Open", "In Progress", "Done")


def test_non_json_numbers_and_wrong_comment_shapes_are_refused_or_ignored(hook):
    for body in ('{"webhookEvent": "comment_created", "comment": {"id": NaN}, "issue": {"key": "IT-1"}}',
                 '{"webhookEvent": "comment_created", "comment": {"author": "x", "body": 7}, "issue": []}',
                 '{"webhookEvent": "jira:issue_updated", "issue": {"key": {"a": 1}, "id": [1]}}',
                 '{"webhookEvent": "comment_created", "comment": {"body": "hi\\u0000\\ud800", "id": "9"},'
                 ' "issue": {"key": "IT-1"}}'):
        assert _post(hook, body).status_code < 500


# --------------------------------------------------------------------- fuzz
_scalar = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                    st.text(max_size=12))
_json = st.recursive(_scalar, lambda kids: st.one_of(st.lists(kids, max_size=3),
                                                     st.dictionaries(st.text(max_size=6), kids, max_size=3)),
                     max_leaves=12)
_events = st.sampled_from(["comment_created", "comment_updated", "jira:issue_updated", "jira:issue_created",
                           "jira:issue_deleted", "nope", 3])
_status = st.one_of(_json, st.fixed_dictionaries(
    {"name": st.one_of(st.sampled_from(["Done", "In Progress", "Open"]), _json),
     "statusCategory": st.one_of(st.just({"key": "done"}), _json)}))
_fields = st.one_of(_json, st.fixed_dictionaries({"status": _status, "assignee": _json, "resolution": _json,
                                                  "updated": _json}))
# only alice's IT-1 (or nothing real) is ever targeted by an authentic delivery
_issue = st.one_of(_json, st.fixed_dictionaries({"key": st.sampled_from(["IT-1", "it-1", "IT-9", "", 1]),
                                                 "id": st.one_of(st.just("10001"), _json), "fields": _fields}))
_comment = st.one_of(_json, st.fixed_dictionaries({"id": _json, "body": _json, "author": _json,
                                                   "self": st.one_of(st.just("x/issue/10001/comment/5"), _json),
                                                   "jsdPublic": _json}))
_delivery = st.fixed_dictionaries({"webhookEvent": _events, "issue": _issue, "comment": _comment,
                                   "user": _json, "timestamp": _json})


def _payload(data: dict[str, Any], drop: list[str]) -> bytes:
    return json.dumps({k: v for k, v in data.items() if k not in drop}).encode()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=_delivery, drop=st.lists(st.sampled_from(["issue", "comment", "user", "timestamp"]), max_size=3),
       forged=st.booleans())
def test_fuzzed_deliveries_never_5xx_and_never_touch_another_ticket(hook, data, drop, forged):
    """A few hundred generated deliveries: no 5xx; bob's ticket never changes; a forgery changes nothing."""
    body = _payload(data, drop)
    if forged:  # an attacker without the secret aims at bob's ticket
        aimed = {**data, "issue": {"key": "IT-2", "id": "10002", "fields": {"status": {
            "name": "Done", "statusCategory": {"key": "done"}}}}}
        before = _state(hook, "IT-1")
        response = _post(hook, _payload(aimed, drop), secret="wrong-secret-0123456789")
        assert response.status_code in (401, 403)
        assert _state(hook, "IT-1") == before
    else:
        response = _post(hook, body)
        assert response.status_code < 500, response.text
    assert _state(hook, "IT-2") == ("Open", "open", None, 0)
