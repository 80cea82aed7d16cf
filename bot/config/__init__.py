"""One typed settings object, read from ``helpdesk.toml`` and ``HELPDESK_*`` variables.

Precedence (highest first): environment variables, the config file, defaults.
Nested keys use a double underscore: ``HELPDESK_SLACK__BOT_TOKEN`` sets
``[slack] bot_token``. Secrets are ``SecretStr`` and never printed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.config.console import ConsoleSettings
from bot.config.core import (
    ConversationSettings,
    DatabaseSettings,
    LoggingSettings,
    PathSettings,
    ServerSettings,
)
from bot.config.metrics import MetricsSettings
from bot.config.slack import SlackSettings
from bot.errors import ConfigError
from integrations.directory.settings import DirectorySettings
from integrations.ticketing.settings import TicketingSettings
from intents.settings import NluSettings
from knowledge_base.settings import KnowledgeBaseSettings

ENV_PREFIX = "HELPDESK_"
CONFIG_ENV = "HELPDESK_CONFIG"
DEFAULT_CONFIG_FILE = Path("helpdesk.toml")
# Variables that share the prefix but are not settings.
NON_SETTING_ENV = {"HELPDESK_CONFIG", "HELPDESK_TEST_DATABASE_URL"}

__all__ = ["Settings", "load_settings", "ConfigError"]


class Settings(BaseSettings):
    """Everything the bot can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_assignment=True,
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    paths: PathSettings = Field(default_factory=PathSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    directory: DirectorySettings = Field(default_factory=DirectorySettings)
    ticketing: TicketingSettings = Field(default_factory=TicketingSettings)
    nlu: NluSettings = Field(default_factory=NluSettings)
    kb: KnowledgeBaseSettings = Field(default_factory=KnowledgeBaseSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    conversation: ConversationSettings = Field(default_factory=ConversationSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)

    config_file: Path | None = Field(default=None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init (the parsed file) is below env: env wins.
        return (env_settings, init_settings)

    def secret_values(self) -> list[str]:
        """Every configured secret's plain value, for log redaction.

        For the database URL only its password is secret (the rest, e.g. a SQLite
        path, appears in messages on purpose).
        """
        found: list[str] = []
        _collect_secrets(self, found)
        url = self.database.url.get_secret_value()
        found = [s for s in found if s != url]
        password = _url_password(url)
        if password:
            found.append(password)
        return [s for s in found if len(s) >= 4]


def _url_password(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password
    except ArgumentError:
        return None


def _collect_secrets(model: BaseModel, out: list[str]) -> None:
    from pydantic import SecretStr

    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            out.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            _collect_secrets(value, out)
        elif isinstance(value, dict | list):
            for v in value.values() if isinstance(value, dict) else value:
                if isinstance(v, BaseModel):
                    _collect_secrets(v, out)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"Config file {path} does not exist.", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"Config file {path} cannot be read: {exc.strerror}.", path=str(path)) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"Config file {path} is not UTF-8 text.", path=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\bline (\d+)", str(exc))
        raise ConfigError(f"Config file {path}: {exc}.", path=str(path),
                          line=int(at.group(1)) if at else None) from None


def _check_env_names(environ: Mapping[str, str]) -> None:
    known = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields if name != "config_file"}
    for key in environ:
        if not key.startswith(ENV_PREFIX) or key in NON_SETTING_ENV:
            continue
        top = key.split("__", 1)[0]
        if top not in known:
            raise ConfigError(
                f"Unknown setting {key}: the sections are "
                + ", ".join(sorted(k.removeprefix(ENV_PREFIX).lower() for k in known))
                + ".",
                field=key,
            )


def _set_in_file(file_values: Mapping[str, Any], loc: tuple[int | str, ...], env: Mapping[str, str]) -> bool:
    """Whether the setting at ``loc`` is written in the file and not overridden by its variable."""
    if ENV_PREFIX + "__".join(str(p) for p in loc).upper() in env:
        return False
    value: Any = file_values
    for part in loc:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return False
    return bool(loc)


def _format_validation_error(exc: ValidationError, source: str) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown setting '{loc}'")
        else:
            parts.append(f"'{loc}': {err['msg']}")
    return f"Invalid configuration ({source}): " + "; ".join(parts) + "."


def load_settings(
    config_file: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Load settings from the file (explicit, ``$HELPDESK_CONFIG`` or ``./helpdesk.toml``) and env.

    Raises ConfigError with a one-line, secret-free explanation.
    """
    env = os.environ if environ is None else environ
    path: Path | None = None
    if config_file is not None:
        path = Path(config_file)
    elif env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    elif DEFAULT_CONFIG_FILE.exists():
        path = DEFAULT_CONFIG_FILE
    file_values = _read_toml(path) if path is not None else {}
    if not isinstance(file_values, dict):
        raise ConfigError(f"Config file {path} must be a TOML table.", path=str(path))
    _check_env_names(env)
    values = {**file_values, **overrides}
    source = str(path) if path else "environment"
    saved = None
    if environ is not None:
        saved = dict(os.environ)
        for k in [k for k in os.environ if k.startswith(ENV_PREFIX)]:
            del os.environ[k]
        os.environ.update({k: v for k, v in environ.items() if k.startswith(ENV_PREFIX)})
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        loc = exc.errors()[0]["loc"] if exc.errors() else ()
        in_file = path is not None and _set_in_file(file_values, loc, env)
        raise ConfigError(_format_validation_error(exc, source), field=".".join(str(p) for p in loc) or None,
                          path=str(path) if in_file else None) from None
    finally:
        if saved is not None:
            os.environ.clear()
            os.environ.update(saved)
    settings.config_file = path
    return settings
