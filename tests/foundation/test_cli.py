"""The `helpdesk` CLI as a user runs it: a real subprocess, one-line errors, non-zero exits."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
HELPDESK = [sys.executable, "-m", "bot"]


def run(args: list[str], tmp_path: Path, env_extra: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(env_extra or {})
    return subprocess.run(HELPDESK + args, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout)


def config(tmp_path: Path, body: str = "") -> dict[str, str]:
    path = tmp_path / "helpdesk.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/hd.db"\n'
        f'[paths]\ndata_dir = "{ROOT}/data"\nmodels_dir = "{tmp_path}/models"\nvar_dir = "{tmp_path}/var"\n'
        f'[kb]\narticles_dir = "{ROOT}/data/kb"\n' + body,
        encoding="utf-8",
    )
    return {"HELPDESK_CONFIG": str(path)}


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    message = " ".join(proc.stderr.split())
    for needle in needles:
        assert needle in message, message


def test_help_everywhere(tmp_path: Path) -> None:
    for args in (["--help"], ["config", "--help"], ["db", "upgrade", "--help"], ["ask", "--help"]):
        proc = run(args, tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "Usage" in proc.stdout


def test_config_check_lists_integrations_without_secrets(tmp_path: Path) -> None:
    secret = "xoxb-99999-88888-secretvaluexyz"
    env = config(tmp_path, '[ticketing]\nbackend = "jira"\n[ticketing.jira]\nurl = "https://acme.atlassian.net"\n')
    env["HELPDESK_SLACK__BOT_TOKEN"] = secret
    proc = run(["config", "check", "--json"], tmp_path, env)
    report = json.loads(proc.stdout)
    by_name = {i["name"]: i for i in report["integrations"]}
    assert set(by_name) == {"database", "slack", "directory", "ticketing", "nlu", "knowledge base", "security"}
    assert by_name["directory"]["mode"].startswith("none")
    assert by_name["slack"]["status"] == "error" and "signing_secret" in by_name["slack"]["details"]
    assert by_name["ticketing"]["status"] == "error" and "credentials" in by_name["ticketing"]["details"]
    assert proc.returncode == 1  # a bad configuration fails the check
    assert secret not in proc.stdout + proc.stderr
    table = run(["config", "check"], tmp_path, env)
    assert "ticketing" in table.stdout and secret not in table.stdout


def test_config_check_on_defaults_passes(tmp_path: Path) -> None:
    proc = run(["config", "check", "--json"], tmp_path, config(tmp_path))
    assert proc.returncode == 0, proc.stderr
    statuses = {i["name"]: i["status"] for i in json.loads(proc.stdout)["integrations"]}
    assert statuses["database"] == "ok" and statuses["ticketing"] == "ok"


def test_unknown_setting_fails_in_one_line(tmp_path: Path) -> None:
    env = config(tmp_path, "[server]\nprot = 1\n")
    assert_one_line_error(run(["config", "check"], tmp_path, env), "unknown setting 'server.prot'")


def test_unreadable_config_fails_in_one_line(tmp_path: Path) -> None:
    proc = run(["--config", str(tmp_path / "missing.toml"), "db", "upgrade"], tmp_path)
    assert_one_line_error(proc, "missing.toml", "does not exist")


def test_unreachable_database_fails_in_one_line(tmp_path: Path) -> None:
    env = config(tmp_path)
    env["HELPDESK_DATABASE__URL"] = "postgresql://nobody:hunter2secret@127.0.0.1:1/none"
    proc = run(["db", "upgrade"], tmp_path, env)
    assert_one_line_error(proc, "Cannot connect to the database")
    assert "hunter2secret" not in proc.stderr


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    env = config(tmp_path)
    up = run(["db", "upgrade"], tmp_path, env)
    assert up.returncode == 0, up.stderr
    assert "is at revision(s):" in up.stdout
    current = json.loads(run(["db", "current", "--json"], tmp_path, env).stdout)
    assert current["pending"] is False
    assert set(current["revisions"]) == set(current["code_heads"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_health_and_readiness(tmp_path: Path) -> None:
    port = _free_port()
    env = config(tmp_path, "[server]\nrun_workers = false\n")
    env_full = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")} | env
    proc = subprocess.Popen(HELPDESK + ["serve", "--port", str(port)], cwd=tmp_path, env=env_full,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        assert health.json() == {"status": "ok"}
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "schema": "ok"}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_refuses_a_newer_database(tmp_path: Path) -> None:
    import sqlite3

    env = config(tmp_path)
    assert run(["db", "upgrade"], tmp_path, env).returncode == 0
    with sqlite3.connect(tmp_path / "hd.db") as conn:
        conn.execute("INSERT INTO alembic_version VALUES ('9999_future')")
    proc = run(["serve", "--port", str(_free_port())], tmp_path, env)
    assert_one_line_error(proc, "newer than this version")
