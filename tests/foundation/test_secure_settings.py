"""Secrets that would switch authentication off, and settings unsafe in production, are refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from bot.security import insecure_settings
from tests.foundation.test_cli import assert_one_line_error, config, run

LONG = "0123456789abcdef-long-enough"


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(values)
    return env


@pytest.mark.parametrize("variable, field", [
    ("HELPDESK_SLACK__SIGNING_SECRET", "slack.signing_secret"),
    ("HELPDESK_SERVER__API_TOKEN", "server.api_token"),
    ("HELPDESK_TICKETING__JIRA__WEBHOOK_SECRET", "ticketing.jira.webhook_secret"),
    ("HELPDESK_NLU__PARSE_API_TOKEN", "nlu.parse_api_token"),
])
@pytest.mark.parametrize("value, why", [("", "must not be empty"), ("   ", "must not be empty"),
                                        ("x", "at least 16 characters"),
                                        ("short-secret", "at least 16 characters")])
def test_empty_or_short_shared_secrets_are_refused(tmp_path: Path, variable: str, field: str,
                                                   value: str, why: str) -> None:
    (tmp_path / "helpdesk.toml").touch()
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "helpdesk.toml", environ=_env(**{variable: value}))
    assert field in caught.value.user_message and why in caught.value.user_message
    if value.strip():
        assert value not in caught.value.user_message  # the bad secret itself is never echoed


@pytest.mark.parametrize("variable", ["HELPDESK_SLACK__BOT_TOKEN", "HELPDESK_DIRECTORY__BIND_PASSWORD",
                                      "HELPDESK_TICKETING__JIRA__API_TOKEN"])
def test_empty_credentials_are_refused(tmp_path: Path, variable: str) -> None:
    (tmp_path / "helpdesk.toml").touch()
    with pytest.raises(ConfigError, match="must not be empty"):
        load_settings(tmp_path / "helpdesk.toml", environ=_env(**{variable: ""}))


def test_long_secrets_load(tmp_path: Path) -> None:
    (tmp_path / "helpdesk.toml").touch()
    settings = load_settings(tmp_path / "helpdesk.toml", environ=_env(HELPDESK_SLACK__SIGNING_SECRET=LONG,
                                                                      HELPDESK_SERVER__API_TOKEN=LONG))
    assert settings.slack.signing_secret is not None
    assert settings.slack.signing_secret.get_secret_value() == LONG


def test_empty_signing_secret_fails_config_check_and_serve(tmp_path: Path) -> None:
    env = config(tmp_path)
    env["HELPDESK_SLACK__SIGNING_SECRET"] = ""
    env["HELPDESK_SLACK__BOT_TOKEN"] = "xoxb-1-2-abc"
    check = run(["config", "check"], tmp_path, env)
    assert_one_line_error(check, "slack.signing_secret", "must not be empty")
    serve = run(["serve", "--port", "1"], tmp_path, env, timeout=60)
    assert_one_line_error(serve, "slack.signing_secret", "must not be empty")


@pytest.mark.parametrize("overrides, needle", [
    ({"server": {"host": "0.0.0.0"}}, "server.public_url is http://"),
    ({"server": {"public_url": "http://helpdesk.example.com"}}, "server.public_url is http://"),
    ({"ticketing": {"backend": "jira", "jira": {"url": "https://acme.atlassian.net", "verify_tls": False}}},
     "verify_tls is false"),
    ({"ticketing": {"backend": "jira", "jira": {"url": "http://jira.example.com"}}},
     "ticketing.jira.url is http://"),
])
def test_insecure_production_settings_are_named(make_settings, sqlite_url: str, overrides: dict,
                                                needle: str) -> None:
    problems = insecure_settings(make_settings(sqlite_url, **overrides))
    assert any(needle in p for p in problems), problems


def test_loopback_development_defaults_are_safe(make_settings, sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, ticketing={"backend": "jira", "jira": {"url": "http://127.0.0.1:9"}})
    assert insecure_settings(settings) == []
    public = make_settings(sqlite_url, server={"host": "0.0.0.0", "public_url": "https://helpdesk.example.com"})
    assert insecure_settings(public) == []


def test_serve_refuses_insecure_settings_unless_allowed(tmp_path: Path) -> None:
    env = config(tmp_path, '[server]\nhost = "0.0.0.0"\n')
    refused = run(["serve", "--port", "1"], tmp_path, env, timeout=60)
    assert_one_line_error(refused, "Refusing to start", "server.public_url is http://", "allow_insecure")
    check = run(["config", "check", "--json"], tmp_path, env)
    assert check.returncode == 1 and '"security"' in check.stdout
    allowed = {**env, "HELPDESK_SERVER__ALLOW_INSECURE": "true"}
    dev = run(["config", "check", "--json"], tmp_path, allowed)
    assert '"status": "warning"' in dev.stdout


def test_a_request_signed_with_an_empty_key_cannot_reach_the_bot(tmp_path: Path) -> None:
    """The chained attack: no settings object can hold an empty signing secret at all."""
    code = ("from bot.config.slack import SlackSettings\n"
            "try:\n    SlackSettings(bot_token='xoxb-1', signing_secret='')\n"
            "except Exception as exc:\n    print(type(exc).__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ValidationError"
