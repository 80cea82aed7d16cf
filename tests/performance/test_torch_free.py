"""The serving path is torch-free and starts from what is stored: `ask`, `chat` and `serve` on a prepared
installation import no torch, re-encode no article and retrain no model; they answer as sentence-transformers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.performance.conftest import helpdesk_env

pytestmark = pytest.mark.slow

HEAVY = ("torch", "transformers", "sentence_transformers", "sklearn")

# Runs one CLI command in-process, then reports what it imported and how much it encoded.
_PROBE = """
import json, sys, uuid
import intents.onnx_encoder as onnx
calls = {"encode": 0, "texts": 0}
real = onnx.OnnxEncoder.encode
def counting(self, texts, **kw):
    calls["encode"] += 1
    calls["texts"] += len(texts)
    return real(self, texts, **kw)
onnx.OnnxEncoder.encode = counting
from bot.cli import app
mode = sys.argv[1]
if mode == "serve":  # the app `helpdesk serve` runs, driven in-process (no port)
    from fastapi.testclient import TestClient
    from bot.cli import common
    from bot.server import create_app
    common.mark_server()
    with TestClient(create_app(common.open_services(), start_workers=False)) as client:
        ready = client.get("/readyz").json()["status"]
        reply = client.post("/api/v1/messages", json={"user": "u1", "text": sys.argv[2]},
                            headers={"Authorization": "Bearer " + "x" * 32}).json()
    print(json.dumps({"ready": ready, "reply": reply}))
elif mode == "many":  # one fresh conversation per question, as `helpdesk ask` has
    from bot.cli import common
    from bot.engine import Engine
    from bot.messages import Message
    engine = Engine(common.open_services())
    replies = [engine.handle(Message(text=q, user_key=f"cli:{uuid.uuid4().hex}", channel="cli")).to_dict()
               for q in json.loads(sys.argv[2])]
    print(json.dumps(replies))
else:
    app(sys.argv[1:], standalone_mode=False)
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY_MODULES))
print("PROBE " + json.dumps({"heavy": heavy, "alembic": "alembic" in sys.modules, **calls}))
""".replace("HEAVY_MODULES", repr(HEAVY))


def run(prepared: Path, *args: str, stdin: str | None = None, **env: str) -> tuple[str, dict]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], env=helpdesk_env(prepared, **env), cwd=prepared,
                          capture_output=True, text=True, input=stdin, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out, _, probe = proc.stdout.rpartition("PROBE ")
    return out, json.loads(probe)


def versions(prepared: Path) -> list[str]:
    return sorted(p.name for p in (prepared / "models" / "nlu").iterdir())


def test_ask_is_torch_free_and_starts_from_stored_vectors_and_model(prepared: Path):
    before = versions(prepared)
    out, probe = run(prepared, "ask", "my vpn keeps disconnecting", "--json")
    reply = json.loads(out)
    assert reply["outcome"] == "answered" and reply["intent"] == "vpn_issue", reply
    assert "VPN" in reply["text"]
    assert probe["heavy"] == []
    assert not probe["alembic"]  # the database is current: start-up needed one query, not the migration tooling
    # only the question was encoded: the index came from the stored vectors, the intent model was not retrained
    assert probe["texts"] == 1, probe
    assert versions(prepared) == before


def test_chat_is_torch_free(prepared: Path):
    out, probe = run(prepared, "chat", stdin="I forgot my password\n")
    assert "password" in out.lower() and "Bye" in out
    assert probe["heavy"] == []


def test_serve_app_is_torch_free(prepared: Path):
    out, probe = run(prepared, "serve", "the printer on floor 2 is jammed", HELPDESK_SERVER__API_TOKEN="x" * 32)
    served = json.loads(out)
    assert served["ready"] == "ready"
    assert served["reply"]["intent"] == "printer_issue", served["reply"]
    assert probe["heavy"] == []


QUESTIONS = ["my vpn keeps disconnecting", "how do I reset my password", "printer on floor 2 is jammed",
             "can't get my work email on my new iphone", "who won the football match last night",
             "Mot de passe oublié", "talk to a human please"]


def test_without_the_export_sentence_transformers_serves_and_answers_the_same(prepared: Path, tmp_path: Path):
    """Same replies whichever encoder serves (intent, outcome, text); no export: sentence-transformers."""
    out, probe = run(prepared, "many", json.dumps(QUESTIONS))
    onnx_replies = json.loads(out)
    assert probe["heavy"] == [] and probe["texts"] == len(QUESTIONS)
    bare = tmp_path / "models"
    shutil.copytree(prepared / "models" / "nlu", bare / "nlu")  # the same intent model, no ONNX export
    out, probe = run(prepared, "many", json.dumps(QUESTIONS), HELPDESK_PATHS__MODELS_DIR=str(bare),
                     HELPDESK_NLU__AUTO_TRAIN="false")
    torch_replies = json.loads(out)
    assert "sentence_transformers" in probe["heavy"] and probe["encode"] == 0
    for q, a, b in zip(QUESTIONS, onnx_replies, torch_replies, strict=True):
        for key in ("outcome", "intent", "text"):
            assert a.get(key) == b.get(key), (q, key, a.get(key), b.get(key))
        assert a["confidence"] == pytest.approx(b["confidence"], abs=2e-3), q
