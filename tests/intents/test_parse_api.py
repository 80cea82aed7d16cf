"""`POST /model/parse` answers Rasa's response shape over real HTTP."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI

from tests.intents.servers import serve_asgi

pytestmark = pytest.mark.slow


def _app(settings):
    from bot.services import Services
    from bot.web import parse

    app = FastAPI()
    app.include_router(parse.build_router(Services(settings)))
    return app


def test_model_parse_has_rasas_shape(nlu_settings):
    with serve_asgi(_app(nlu_settings())) as base:
        text = "what's the status of IT-42? it's urgent"
        r = httpx.post(f"{base}/model/parse", json={"text": text, "message_id": "m1"}, timeout=30)
        assert r.status_code == 200
        body = r.json()
        assert body["text"] == text and body["message_id"] == "m1"
        assert body["intent"]["name"] == "ticket_status"
        assert 0.0 <= body["intent"]["confidence"] <= 1.0
        assert body["intent_ranking"][0] == body["intent"]
        assert all(set(i) == {"name", "confidence"} for i in body["intent_ranking"])
        entities = {e["entity"]: e for e in body["entities"]}
        assert entities["ticket_key"] == {"entity": "ticket_key", "start": 21, "end": 26,
                                          "value": "IT-42", "extractor": "RegexEntityExtractor"}
        urgency = entities["urgency"]
        assert urgency["value"] == "high" and text[urgency["start"]:urgency["end"]] == "urgent"

        off = httpx.post(f"{base}/model/parse", json={"text": "what's the weather in rome"}, timeout=30).json()
        assert off["intent"]["name"] == "out_of_scope"

        bad = httpx.post(f"{base}/model/parse", json={"txt": "x"}, timeout=30)
        assert bad.status_code == 400 and bad.json()["status"] == "failure"
        assert httpx.get(f"{base}/version", timeout=30).json()["version"].startswith("3.")
        status = httpx.get(f"{base}/status", timeout=30).json()
        assert status["model_file"] and status["fingerprint"]["nlu"]


def test_token_is_required_when_configured(nlu_settings):
    with serve_asgi(_app(nlu_settings(nlu={"parse_api_token": "s3cret-token-for-tests"}))) as base:
        denied = httpx.post(f"{base}/model/parse", json={"text": "hi"}, timeout=30)
        assert denied.status_code == 401
        ok = httpx.post(f"{base}/model/parse?token=s3cret-token-for-tests", json={"text": "hi"}, timeout=30)
        assert ok.status_code == 200 and ok.json()["intent"]["name"] == "greet"



def test_parse_is_rate_limited_per_client_and_status_needs_the_token(nlu_settings):
    """Open /model/parse could be saturated by one client (issue 11 §6); every request of an address counts."""
    settings = nlu_settings(nlu={"parse_api_token": "s3cret-token-for-tests", "parse_requests_per_minute": 3})
    url = "/model/parse?token=s3cret-token-for-tests"
    with serve_asgi(_app(settings)) as base:
        assert httpx.get(f"{base}/status", timeout=30).status_code == 401
        assert [httpx.post(f"{base}{url}", json={"text": "hi"}, timeout=30).status_code
                for _ in range(2)] == [200, 200]
        over = httpx.post(f"{base}{url}", json={"text": "hi"}, timeout=30)
        assert over.status_code == 429 and int(over.headers["retry-after"]) >= 1
        assert over.json()["status"] == "failure" and over.json()["code"] == 429
        assert httpx.get(f"{base}/status?token=s3cret-token-for-tests", timeout=30).status_code == 429


def test_deeply_nested_json_is_a_bad_request_not_a_crash(nlu_settings):
    with serve_asgi(_app(nlu_settings())) as base:
        r = httpx.post(f"{base}/model/parse", content=b"[" * 100_000 + b"]" * 100_000,
                       headers={"content-type": "application/json"}, timeout=30)
        assert r.status_code == 400 and r.json()["reason"] == "BadRequest"


def test_text_that_is_not_unicode_is_a_400_not_a_500(nlu_settings):
    with serve_asgi(_app(nlu_settings())) as base:
        reply = httpx.post(f"{base}/model/parse", content=b'{"text": "\\ud800"}',
                           headers={"Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == 400 and reply.json()["status"] == "failure"


def test_status_names_a_newer_model_that_could_not_be_loaded(nlu_settings):
    """Rasa clients and operators see which model serves and that a newer one failed to load."""
    from pathlib import Path

    from intents.store import ModelStore
    from tests.intents.test_model_reload import corrupt_newer_version

    settings = nlu_settings(nlu={"model_check_seconds": 0.05})
    with serve_asgi(_app(settings)) as base:
        before = httpx.get(f"{base}/status", timeout=30).json()
        assert "model_problem" not in before
        models_dir = Path(settings.paths.models_dir)
        broken = corrupt_newer_version(models_dir, ModelStore(models_dir).load(before["model_file"]))
        time.sleep(0.1)  # past the check interval: the next parse looks for a newer model
        assert httpx.post(f"{base}/model/parse", json={"text": "hi"}, timeout=30).json()["intent"]["name"] == "greet"
        after = httpx.get(f"{base}/status", timeout=30).json()
        assert after["model_file"] == before["model_file"] and broken in after["model_problem"]
