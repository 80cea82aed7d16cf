"""Ticketing settings (owned by the ticketing integration)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from bot.config.core import Section


class IntentRoute(Section):
    """Where tickets of one intent go in Jira."""

    project: str | None = None
    issue_type: str | None = None
    components: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)


class JiraSettings(Section):
    """Jira Cloud (email + api_token) or Server/Data Center (personal_access_token)."""

    url: str | None = None
    email: str | None = None
    api_token: SecretStr | None = None
    personal_access_token: SecretStr | None = None
    project: str = "IT"
    issue_type: str = "Task"
    webhook_secret: SecretStr | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)
    intent_routes: dict[str, IntentRoute] = Field(default_factory=dict)
    priority_map: dict[str, str] = Field(
        default_factory=lambda: {"low": "Low", "normal": "Medium", "high": "High", "critical": "Highest"}
    )


class TicketingSettings(Section):
    backend: Literal["local", "jira"] = "local"
    key_prefix: str = "IT"
    jira: JiraSettings = Field(default_factory=JiraSettings)
    outbox_max_attempts: int = Field(default=50, ge=1)
    outbox_backoff_seconds: float = Field(default=5.0, gt=0)
