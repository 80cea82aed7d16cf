"""GET /metrics: turn, outbox, error and encoder figures for Prometheus, never for the public."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot import metrics
from bot.errors import DirectoryError, SlackError, TicketingError
from bot.messages import Reply
from bot.notify import enqueue
from bot.server import create_app
from bot.services import Services
from bot.storage import migrate
from bot.web import metrics as web_metrics

INTERNAL = ("127.0.0.1", 40000)
OUTSIDE = ("203.0.113.9", 40000)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in an exposition text (None when absent)."""
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return None


@pytest.fixture
def app_services(make_settings: Any, sqlite_url: str) -> Services:
    services = Services(make_settings(sqlite_url, server={"run_workers": False}))
    migrate.upgrade(services.db)
    return services


def scrape(services: Services, client: tuple[str, int] = INTERNAL, **headers: str) -> Any:
    with TestClient(create_app(services, start_workers=False), client=client) as http:
        return http.get("/metrics", headers=headers)


def test_turns_latency_intents_and_kb_confidence_are_exposed(app_services: Services) -> None:
    before = scrape(app_services).text
    count = sample(before, "helpdesk_turn_seconds_count", channel="slack") or 0.0
    metrics.observe_turn("slack", "answered", "kb_question", 0.8, kb_confidence=0.72)
    metrics.observe_turn("slack", "escalated", None, 2.5)
    text = scrape(app_services).text
    assert sample(text, "helpdesk_turn_seconds_count", channel="slack") == count + 2
    assert sample(text, "helpdesk_turn_seconds_bucket", channel="slack", le="1.0") is not None
    assert (sample(text, "helpdesk_turns_total", channel="slack", outcome="escalated") or 0) >= 1
    assert (sample(text, "helpdesk_intents_total", intent="kb_question") or 0) >= 1
    assert (sample(text, "helpdesk_intents_total", intent="none") or 0) >= 1
    assert (sample(text, "helpdesk_kb_confidence_bucket", le="0.8") or 0) >= 1


def test_observe_turn_never_raises_and_bounds_intent_labels() -> None:
    metrics.observe_turn("http", "answered", "x" * 500, float("nan"), kb_confidence=float("nan"))
    for n in range(metrics.MAX_INTENTS + 5):
        metrics.observe_turn("http", "answered", f"made-up-{n}", 0.1)
    text = metrics.render()[0].decode()
    intents = {m for m in re.findall(r'helpdesk_intents_total\{intent="([^"]*)"\}', text)}
    assert len(intents) <= metrics.MAX_INTENTS + 1 and "other" in intents


def test_integration_errors_are_counted_by_system(app_services: Services) -> None:
    before = scrape(app_services).text
    old = {s: sample(before, "helpdesk_integration_errors_total", system=s) or 0.0 for s in ("slack", "jira", "ldap")}
    SlackError(detail="ratelimited")
    TicketingError()
    TicketingError()
    DirectoryError()
    text = scrape(app_services).text
    assert sample(text, "helpdesk_integration_errors_total", system="slack") == old["slack"] + 1
    assert sample(text, "helpdesk_integration_errors_total", system="jira") == old["jira"] + 2
    assert sample(text, "helpdesk_integration_errors_total", system="ldap") == old["ldap"] + 1


def test_outbox_depth_and_age_are_read_from_the_database_at_scrape_time(app_services: Services) -> None:
    text = scrape(app_services).text
    assert sample(text, "helpdesk_outbox_depth", outbox="notifications", status="pending") == 0
    assert sample(text, "helpdesk_outbox_depth", outbox="tickets", status="pending") == 0
    with app_services.db.session() as session:
        for n in range(3):
            enqueue(session, user_key=f"slack:U{n}", reply=Reply(text="Your ticket IT-1 was resolved."))
    text = scrape(app_services).text
    assert sample(text, "helpdesk_outbox_depth", outbox="notifications", status="pending") == 3
    assert (sample(text, "helpdesk_outbox_oldest_age_seconds", outbox="notifications") or -1) >= 0
    assert sample(text, "helpdesk_database_up") == 1


def test_encoder_batches_are_read_through_the_registered_callback(app_services: Services) -> None:
    metrics.register_encoder_stats(lambda: {"calls": 120, "batches": 30})
    try:
        text = metrics.render()[0].decode()
    finally:
        metrics.register_encoder_stats(None)
    assert sample(text, "helpdesk_encoder_requests_total") == 120
    assert sample(text, "helpdesk_encoder_batch_size_mean") == 4.0


def test_only_internal_addresses_without_a_token(app_services: Services) -> None:
    assert scrape(app_services, INTERNAL).status_code == 200
    outside = scrape(app_services, OUTSIDE)
    assert outside.status_code == 404 and "helpdesk_" not in outside.text


def test_a_configured_token_is_required_from_everywhere(app_services: Services,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    token = "metrics-token-0123456789abcdef"
    monkeypatch.setattr(web_metrics, "metrics_settings", lambda _s: web_metrics.MetricsSettings(token=token))
    assert scrape(app_services, INTERNAL).status_code == 401
    assert scrape(app_services, OUTSIDE, Authorization="Bearer wrong-token-0123456789").status_code == 401
    ok = scrape(app_services, OUTSIDE, Authorization=f"Bearer {token}")
    assert ok.status_code == 200 and "helpdesk_turn_seconds" in ok.text


def test_metrics_can_be_switched_off_and_short_tokens_are_refused(app_services: Services,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError):
        web_metrics.MetricsSettings(token="short")
    with pytest.raises(ValueError):
        web_metrics.MetricsSettings(allowed_networks=["not-a-network"])
    monkeypatch.setattr(web_metrics, "metrics_settings", lambda _s: web_metrics.MetricsSettings(enabled=False))
    assert scrape(app_services, INTERNAL).status_code == 404


def test_a_database_outage_still_answers_the_scrape(app_services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*_a: Any, **_k: Any) -> Any:
        raise OSError("connection refused")

    with TestClient(create_app(app_services, start_workers=False), client=INTERNAL) as http:
        monkeypatch.setattr(app_services.db, "session", down)
        response = http.get("/metrics")
    assert response.status_code == 200
    assert sample(response.text, "helpdesk_database_up") == 0
    assert sample(response.text, "helpdesk_outbox_depth", outbox="notifications", status="pending") is None
