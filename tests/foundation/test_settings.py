"""Settings: precedence (env > file > defaults), validation errors, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "helpdesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_run_on_embedded_integrations(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, ""), environ={})
    assert s.database.url.get_secret_value().startswith("sqlite:///var/")
    assert s.ticketing.backend == "local"
    assert s.directory.kind == "none"
    assert s.nlu.backend == "builtin"
    assert not s.slack.configured


def test_file_overrides_defaults_and_env_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nport = 9000\nhost = "0.0.0.0"\n[ticketing]\nkey_prefix = "HD"\n')
    s = load_settings(path, environ={"HELPDESK_SERVER__PORT": "9100"})
    assert s.server.port == 9100          # env wins
    assert s.server.host == "0.0.0.0"     # file wins over default
    assert s.ticketing.key_prefix == "HD"


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "[nlu]\nhigh_confidence = 0.9\n")
    s = load_settings(environ={"HELPDESK_CONFIG": str(path)})
    assert s.nlu.high_confidence == 0.9
    assert s.config_file == path


def test_nested_secret_from_env_is_secret(tmp_path: Path) -> None:
    token = "xoxb-1111-2222-abcdefabcdef"
    s = load_settings(write(tmp_path, ""), environ={"HELPDESK_SLACK__BOT_TOKEN": token})
    assert s.slack.bot_token is not None and s.slack.bot_token.get_secret_value() == token
    assert token not in repr(s) and token not in str(s.model_dump())
    assert token in s.secret_values()


def test_unknown_key_in_file_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "[slack]\nbot_tokn = \"x\"\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert "unknown setting 'slack.bot_tokn'" in str(err.value)


def test_unknown_environment_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, ""), environ={"HELPDESK_SLAK__BOT_TOKEN": "x"})
    assert "HELPDESK_SLAK__BOT_TOKEN" in str(err.value)


def test_invalid_value_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 99999\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert "server.port" in str(err.value)


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 80\nhost = \n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert str(path) in str(err.value) and "line 3" in str(err.value)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(tmp_path, environ={})  # a directory


def test_secret_value_not_in_validation_error(tmp_path: Path) -> None:
    secret = "supersecretpassword123"
    path = write(tmp_path, f'[directory]\nbind_password = "{secret}"\ntimeout_seconds = -1\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert secret not in str(err.value)
    assert "directory.timeout_seconds" in str(err.value)


def test_only_the_database_password_counts_as_secret(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, '[database]\nurl = "postgresql://bot:pa55word@db/helpdesk"\n'), environ={})
    assert "pa55word" in s.secret_values()
    assert not any("postgresql://" in v for v in s.secret_values())
    plain = load_settings(write(tmp_path, f'[database]\nurl = "sqlite:///{tmp_path}/x.db"\n'), environ={})
    assert plain.secret_values() == []
