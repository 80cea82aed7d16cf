"""The system under test: a scratch database, the fake Slack, and real `helpdesk serve` subprocesses.

* :func:`scratch_database` — a SQLite file, or a fresh PostgreSQL database created
  and dropped around the run exactly as ``tests/conftest.py`` does;
* :func:`prepare_models` — trains the intent model once into a folder every
  process then reuses (``paths.models_dir``);
* :class:`Replica` — one ``helpdesk serve`` on a 127.0.0.1 port, with its own
  config file and log file; ``kill()`` is ``kill -9``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SLACK_SPEC = SHARED / "specs" / "slack" / "slack_web_openapi_v2.json"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
# configured secrets: the secrets scan looks for every one of them afterwards
API_TOKEN = "bench-api-token-" + "7f3a9c2e5b1d4086"
SIGNING_SECRET = "bench-signing-secret-" + "c41e0b9a77d2"
BOT_TOKEN = "xoxb-bench-" + "5521-helpdesk"
WEBHOOK_SECRET = "bench-webhook-secret-" + "9d0e6f12ab34"
SECRETS = (API_TOKEN, SIGNING_SECRET, BOT_TOKEN, WEBHOOK_SECRET)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def scratch_database(kind: str, folder: Path, pg_url: str | None = None) -> Iterator[str]:
    """A fresh, empty database URL (``kind`` is ``sqlite`` or ``postgresql``), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'helpdesk.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    if not pg_url:
        raise RuntimeError("PostgreSQL run needs HELPDESK_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    url = make_url(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    name = f"helpdesk_bench_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def via_port(database_url: str, port: int) -> str:
    """The same PostgreSQL URL through another port on 127.0.0.1 (the TCP proxy)."""
    from sqlalchemy.engine import make_url

    return make_url(database_url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    """A helpdesk.toml from nested dicts (one level of tables, as the bot's sections are)."""
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml(value)}" for key, value in values.items())
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def base_sections(folder: Path, database_url: str, models_dir: Path, port: int,
                  slack_url: str | None) -> dict[str, dict[str, Any]]:
    """Settings for one replica: the bundled content, generous abuse limits (all load comes from 127.0.0.1)."""
    sections: dict[str, dict[str, Any]] = {
        "database": {"url": database_url},
        "server": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}",
                   "api_token": API_TOKEN, "worker_interval_seconds": 1.0,
                   "api_messages_per_minute": 100_000, "api_requests_per_minute_per_ip": 1_000_000,
                   "auth_failures_per_minute": 1_000_000},
        "paths": {"data_dir": str(ROOT / "data"), "models_dir": str(models_dir), "var_dir": str(folder / "var")},
        "kb": {"articles_dir": str(ROOT / "data" / "kb")},
        "logging": {"level": "INFO"},
        "ticketing.jira": {"webhook_secret": WEBHOOK_SECRET},
    }
    if slack_url:
        sections["slack"] = {"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET, "api_base_url": slack_url,
                             "socket_mode_in_server": False,
                             "turns_per_minute": 100_000}  # the load is many turns per simulated user
    return sections


def prepare_models(models_dir: Path, folder: Path) -> None:
    """Export the ONNX encoder and train the intent model, each only when missing or stale (seconds when current)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder / "prepare.toml", {
        "database": {"url": f"sqlite:///{folder / 'prepare.db'}"},
        "paths": {"data_dir": str(ROOT / "data"), "models_dir": str(models_dir), "var_dir": str(folder / "var")},
        "kb": {"articles_dir": str(ROOT / "data" / "kb")}})
    export = f"from intents.encoder import export_encoder; export_encoder({str(models_dir)!r})"
    subprocess.run([PYTHON, "-c", export], check=True, cwd=ROOT, env=clean_env(), stdout=subprocess.DEVNULL,
                   timeout=900)
    helpdesk(config, "ask", "hello")  # trains the intent model only when it is missing or stale


def helpdesk(config: Path, *args: str, timeout: float = 900) -> None:
    """Run one `helpdesk` command with ``config`` (output discarded; a failure raises with its output)."""
    done = subprocess.run([PYTHON, "-m", "bot", "--config", str(config), *args], cwd=ROOT, env=clean_env(),
                          capture_output=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"helpdesk {' '.join(args)} exited {done.returncode}: {done.stderr.decode()[-2000:]}")


def prepare_database(folder: Path, sections: dict[str, dict[str, Any]]) -> None:
    """What an operator does once per database: migrate, import the bundled articles (`make prepare`)."""
    config = write_config(folder / "prepare-db.toml", {k: v for k, v in sections.items() if k != "slack"})
    helpdesk(config, "db", "upgrade")
    helpdesk(config, "kb", "import", str(ROOT / "data" / "kb"))


def clean_env() -> dict[str, str]:
    """The environment without the developer's HELPDESK_* settings, offline model loading."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update({"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"})
    return env


@dataclass
class Replica:
    """One `helpdesk serve` subprocess on 127.0.0.1."""

    name: str
    folder: Path
    sections: dict[str, dict[str, Any]]
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)
    starts: int = 0

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log_path = self.folder / "serve.log"

    @property
    def port(self) -> int:
        return int(self.sections["server"]["port"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: float = 300.0) -> Replica:
        """Start (or restart) the process and wait until /readyz says ready."""
        config = write_config(self.folder / "helpdesk.toml", self.sections)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen([PYTHON, "-m", "bot", "--config", str(config), "serve"], cwd=ROOT,
                                        env=clean_env(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.starts += 1
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self.warm_up()
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready after {wait:.0f} s:\n{self.log_tail()}")

    def warm_up(self) -> Replica:
        """One turn before the clock starts: loads the encoder and, on a new database, imports the KB."""
        response = httpx.post(self.url + "/api/v1/messages", json={"user": f"warm-up-{self.name}",
                              "text": "How do I connect to the VPN?"},
                              headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=600)
        if response.status_code != 200:
            raise RuntimeError(f"{self.name}: warm-up turn answered {response.status_code}:\n{self.log_tail()}")
        return self

    def kill(self) -> None:
        """kill -9: no shutdown hooks, in-flight work is lost mid-way."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM and wait (uvicorn's graceful shutdown), then SIGKILL if it hangs."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_mb(self) -> float:
        """Resident memory of the process now (MB), from /proc."""
        if not self.process or self.process.poll() is not None:
            return 0.0
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def start_fake_slack() -> Any:
    """The spec-validating fake Slack Web API (tests/slack/fake_slack.py) on 127.0.0.1."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.slack.fake_slack import FakeSlack

    if not SLACK_SPEC.exists():
        raise RuntimeError(f"{SLACK_SPEC} is absent: the shared specs folder must be beside the checkout")
    return FakeSlack(SLACK_SPEC).start()
