"""Every HTTP request gets a short, safe answer: size limits, rate limits, no 500 on odd input, honest /readyz."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.server import create_app
from bot.services import Services
from bot.storage import migrate

TOKEN = "chat-api-token-for-tests-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(make_settings, sqlite_url) -> Iterator[TestClient]:
    services = Services(make_settings(sqlite_url, server={
        "api_token": TOKEN, "api_messages_per_minute": 3, "auth_failures_per_minute": 5,
        "max_body_bytes": 20_000}))
    migrate.prepare(services.db)
    with TestClient(create_app(services, start_workers=False), raise_server_exceptions=False) as test_client:
        yield test_client
    services.db.dispose()


def test_oversized_bodies_are_refused_before_they_are_read(client: TestClient) -> None:
    big = b'{"user": "a", "text": "' + b"x" * 30_000 + b'"}'
    declared = client.post("/api/v1/messages", content=big, headers={**AUTH, "Content-Type": "application/json"})
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield big[:10_000]
        yield big[10_000:]

    streamed = client.post("/api/v1/messages", content=chunks(), headers={**AUTH, "Content-Type": "application/json"})
    assert streamed.status_code == 413


@pytest.mark.parametrize("body, status", [
    ('{"user": "a", "text": NaN}', 422),
    ('{"user": "a", "text": 1e999}', 422),
    ('{"user": "a", "text": "\\ud800"}', 422),
    ('{"user": "\\udfff", "text": "hi"}', 422),
    ('{"user": "a", "text": "", "value": ' + '{"a": ' * 2000 + "1" + "}" * 2000 + "}", 400),
    ('{"user": "xoxb-123456789012-abcdefghijklmnop", "text": ""}', 422),
])
def test_odd_input_is_a_clear_4xx_never_a_500(client: TestClient, body: str, status: int) -> None:
    reply = client.post("/api/v1/messages", content=body.encode(), headers={**AUTH, "Content-Type": "application/json"})
    assert reply.status_code == status, reply.text
    assert "xoxb-1234" not in reply.text  # the input is never echoed back


def test_one_user_is_rate_limited_with_retry_after(client: TestClient) -> None:
    for _ in range(3):
        assert client.post("/api/v1/messages", json={"user": "u1", "text": ""}, headers=AUTH).status_code == 200
    limited = client.post("/api/v1/messages", json={"user": "u1", "text": ""}, headers=AUTH)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "too many messages" in limited.json()["detail"]
    # another user is not affected
    assert client.post("/api/v1/messages", json={"user": "u2", "text": ""}, headers=AUTH).status_code == 200


def test_guessing_the_token_is_throttled(client: TestClient) -> None:
    wrong = {"Authorization": "Bearer not-the-token-at-all"}
    codes = [client.post("/api/v1/messages", json={"user": "x", "text": ""}, headers=wrong).status_code
             for _ in range(8)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}


def test_api_docs_are_not_served_by_default(client: TestClient) -> None:
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404


def test_readyz_is_not_ready_on_a_read_only_database(make_settings, tmp_path) -> None:
    path = tmp_path / "helpdesk.db"
    writer = Services(make_settings(f"sqlite:///{path}"))
    migrate.prepare(writer.db)
    writer.db.dispose()
    services = Services(make_settings(f"sqlite:///file:{path}?mode=ro&uri=true"))
    with TestClient(create_app(services, start_workers=False)) as test_client:
        ready = test_client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["database"] == "The database is read-only."
    services.db.dispose()


def test_readyz_does_not_name_the_database_server(make_settings) -> None:
    services = Services(make_settings("postgresql+psycopg://helpdesk_user@127.0.0.1:1/helpdesk_prod"))
    with TestClient(create_app(services, start_workers=False)) as test_client:
        ready = test_client.get("/readyz")
    assert ready.status_code == 503
    assert "helpdesk_user" not in ready.text and "127.0.0.1" not in ready.text and "helpdesk_prod" not in ready.text
