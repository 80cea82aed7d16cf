"""`helpdesk slack …` commands (mounted by the lead under the root CLI)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli import common
from bot.cli import slack as slack_cli
from tests.slack.conftest import APP_TOKEN, BOT_TOKEN
from tests.slack.fake_slack import FakeSlack

REQUIRED_SCOPES = {"app_mentions:read", "chat:write", "im:history", "im:read", "im:write", "users:read",
                   "users:read.email", "commands"}


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI installs a stderr handler on the root logger; take it away again after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    common.set_config_path(None)


def run(tmp_path: Path, toml: str, *args: str) -> object:
    config = tmp_path / "helpdesk.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "h.db"}"\n' + toml)
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        common.set_config_path(str(config))

    root.add_typer(slack_cli.app, name="slack")
    return CliRunner().invoke(root, ["slack", *args], env={"HELPDESK_CONFIG": str(config)})


def test_manifest_has_the_scopes_events_and_url(tmp_path: Path) -> None:
    result = run(tmp_path, "", "manifest", "--request-url", "https://helpdesk.acme.test", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert REQUIRED_SCOPES <= set(data["oauth_config"]["scopes"]["bot"])
    events = set(data["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "app_home_opened"} <= events  # and the assistant panel's, reactions
    assert data["settings"]["interactivity"]["request_url"] == "https://helpdesk.acme.test/slack/events"
    assert data["features"]["slash_commands"][0]["command"] == "/helpdesk"
    assert data["features"]["app_home"]["home_tab_enabled"] is True


def test_socket_mode_manifest_needs_no_url(tmp_path: Path) -> None:
    result = run(tmp_path, "", "manifest", "--socket-mode")
    assert result.exit_code == 0 and "socket_mode_enabled: true" in result.output
    assert "request_url" not in result.output


def test_socket_without_tokens_is_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path, "", "socket")
    assert result.exit_code == 1
    assert "Socket Mode needs slack.app_token" in result.output and "slack.bot_token" in result.output
    assert "Traceback" not in result.output


def test_check_reports_the_bot_identity_without_leaking_tokens(tmp_path: Path, fake_slack: FakeSlack) -> None:
    fake_slack.socket_url = "ws://127.0.0.1:1/link"
    toml = (f'[slack]\nbot_token = "{BOT_TOKEN}"\napp_token = "{APP_TOKEN}"\n'
            f'api_base_url = "{fake_slack.base_url}"\n')
    result = run(tmp_path, toml, "check", "--json")
    fake_slack.socket_url = None
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["bot_user_id"] == FakeSlack.BOT_USER and report["socket_mode"] is True
    assert BOT_TOKEN not in result.output and APP_TOKEN not in result.output
    fake_slack.fail_next("auth.test", error="invalid_auth")
    result = run(tmp_path, toml, "check")
    assert result.exit_code == 1 and "invalid_auth" in result.output
