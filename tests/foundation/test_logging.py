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
