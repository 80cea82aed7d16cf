"""Core settings: database, server, paths, logging, conversation."""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field, SecretStr

from bot.settings_base import Section, SharedSecret, default_data_dir


class DatabaseSettings(Section):
    """Where the bot keeps its state. SQLite under ``var/`` by default."""

    url: SecretStr = SecretStr("sqlite:///var/helpdesk.db")
    echo: bool = False
    auto_migrate: bool = True


class ServerSettings(Section):
    """The HTTP server (`helpdesk serve`)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    run_workers: bool = True
    # Bearer token for the JSON chat API (POST /api/v1/messages); unset = the API is off.
    api_token: SharedSecret | None = None
    worker_interval_seconds: float = Field(default=5.0, gt=0)
    # Development only: let `serve` start with settings that are unsafe in production
    # (an http:// public URL on a non-loopback address, Jira without TLS verification).
    allow_insecure: bool = False
    # Abuse limits (per process; each replica counts its own).
    max_body_bytes: int = Field(default=1_000_000, ge=10_000)  # any request body over this: 413
    api_messages_per_minute: int = Field(default=30, ge=1)  # chat API, per user id
    api_requests_per_minute_per_ip: int = Field(default=600, ge=1)  # chat API, per client address
    auth_failures_per_minute: int = Field(default=20, ge=1)  # wrong tokens per client address, then 429
    api_docs: bool = False  # serve /docs and /openapi.json (they describe every endpoint: off in production)


class PathSettings(Section):
    """Where content and artefacts live (relative paths are relative to the working directory)."""

    data_dir: Path = Field(default_factory=default_data_dir)
    models_dir: Path = Path("models")
    var_dir: Path = Path("var")


class LoggingSettings(Section):
    """Log level and format (key=value, or JSON lines with ``json = true``)."""
    level: str = "INFO"
    json_format: bool = Field(default=False, alias="json")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ConversationSettings(Section):
    """How conversations are run: a form nobody answers expires."""
    # a multi-turn form (the ticket form) not answered for this long is dropped; the next
    # message starts afresh instead of being taken as the form's answer
    flow_expiry_minutes: float = Field(default=30.0, gt=0)
