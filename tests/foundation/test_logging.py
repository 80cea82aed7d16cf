"""Structured logs carry the turn context and never a configured secret."""

from __future__ import annotations

import json
import logging

import pytest

from bot.logs import bind_context, configure_logging


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_with_context_and_masked_secrets(capfd, restore_logging) -> None:
    secret = "Corr3ct-Horse-Battery"
    configure_logging("INFO", json_format=True, secrets=[secret])
    with bind_context(turn="abc123", user="slack:U1"):
        logging.getLogger("helpdesk.test").info("binding with %s failed; token xoxb-1234-5678-abcdefgh", secret)
    line = capfd.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["turn"] == "abc123" and record["user"] == "slack:U1"
    assert secret not in line and "xoxb-1234" not in line
    assert "[REDACTED]" in record["msg"]


def test_plain_format_is_readable(capfd, restore_logging) -> None:
    configure_logging("INFO", json_format=False)
    with bind_context(turn="t1"):
        logging.getLogger("helpdesk.test").warning("directory unreachable")
    err = capfd.readouterr().err
    assert "WARNING" in err and "directory unreachable" in err and "turn=t1" in err


@pytest.mark.parametrize("json_format", [True, False])
def test_tracebacks_and_extras_are_masked_too(capfd, restore_logging, json_format: bool) -> None:
    """A secret inside an exception (e.g. a request body quoted in a traceback) never reaches the log."""
    secret = "Corr3ct-Horse-Battery"
    configure_logging("INFO", json_format=json_format, secrets=[secret])
    try:
        raise ValueError(f"bad body: {{'password': '{secret}', 'token': 'xoxb-1234-5678-abcdefgh'}}")
    except ValueError:
        logging.getLogger("helpdesk.test").exception("request failed", extra={"body": f"pw={secret}"})
    err = capfd.readouterr().err
    assert "ValueError" in err and "request failed" in err
    assert secret not in err and "xoxb-1234" not in err


def test_health_probes_stay_out_of_the_access_log(capfd, restore_logging, monkeypatch) -> None:
    configure_logging("INFO")
    access = logging.getLogger("uvicorn.access")
    # as under `helpdesk serve` (uvicorn started with log_config=None): uvicorn's loggers propagate to ours
    monkeypatch.setattr(access, "propagate", True)
    monkeypatch.setattr(access, "handlers", [])
    monkeypatch.setattr(access, "level", logging.NOTSET)
    access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:1", "GET", "/readyz", "1.1", 200)
    access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:1", "GET", "/readyz", "1.1", 503)
    access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:1", "GET", "/reset/Zq3xT0kenAbcdefgh12345", "1.1", 200)
    err = capfd.readouterr().err
    assert err.count("/readyz") == 1 and "503" in err  # a failing probe is still worth a line
    assert "Zq3xT0ken" not in err and "/reset/[REDACTED]" in err


def test_a_lasting_job_failure_is_logged_once_not_every_round(make_settings, sqlite_url, caplog) -> None:
    from sqlalchemy.exc import OperationalError

    from bot.services import Services
    from bot.worker import Job, Worker

    worker = Worker(Services(make_settings(sqlite_url)), interval=1)
    calls = []

    def down() -> None:
        calls.append(1)
        if len(calls) <= 3:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    worker.jobs = [Job("outbox", down)]
    with caplog.at_level(logging.INFO, logger="bot.worker"):
        for _ in range(4):
            worker.run_once()
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.worker"]
    assert len(calls) == 4
    assert messages == ["background job outbox failed: OperationalError (retrying every 1 s)",
                        "background job outbox works again"]
    assert not any(r.exc_info for r in caplog.records if r.name == "bot.worker")  # no traceback for an outage
