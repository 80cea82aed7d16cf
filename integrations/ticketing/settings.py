"""Ticketing settings (owned by the ticketing integration).

Jira Cloud: ``url`` + ``email`` + ``api_token`` (HTTP basic auth).
Jira Server / Data Center: ``url`` + ``personal_access_token`` (HTTP bearer).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.settings_base import Credential, Section, SharedSecret


class IntentRoute(Section):
    """Where tickets of one intent go in Jira (unset fields fall back to the defaults)."""

    project: str | None = None
    issue_type: str | None = None
    components: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)


class JiraSettings(Section):
    """Jira Cloud (email + api_token) or Server/Data Center (personal_access_token)."""

    url: str | None = None
    email: str | None = None
    api_token: Credential | None = None
    personal_access_token: Credential | None = None
    project: str = "IT"
    issue_type: str = "Task"
    webhook_secret: SharedSecret | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)
    intent_routes: dict[str, IntentRoute] = Field(default_factory=dict)
    priority_map: dict[str, str] = Field(
        default_factory=lambda: {"low": "Low", "normal": "Medium", "high": "High", "critical": "Highest"}
    )
    # added by the ticketing integration
    labels: list[str] = Field(default_factory=lambda: ["helpdesk-bot"])
    components: list[str] = Field(default_factory=list)
    set_reporter: bool = True  # look the requester up by e-mail and make them the reporter
    verify_tls: bool = True
    # internal notes (`helpdesk tickets note`): a Jira Service Management project gets an internal
    # comment (the ``sd.public.comment`` property); any project also restricts the comment to this
    # project role, so it stays IT-only where the project is not a service project
    internal_note_role: str = "Administrators"
    link_type_duplicate: str = "Duplicate"
    link_type_related: str = "Relates"
    # an employee's *Reopen* from Slack moves the Jira issue with this transition (the name your workflow uses)
    reopen_transition: str = "Reopen"

    @property
    def deployment(self) -> Literal["cloud", "server"]:
        """Cloud when e-mail + API token are set, else Server/Data Center (PAT)."""
        return "server" if self.personal_access_token is not None else "cloud"


class TicketingSettings(Section):
    """``[ticketing]``: the backend, the outbox's retry schedule, the duplicate check, triage posts."""

    backend: Literal["local", "jira"] = "local"
    key_prefix: str = "IT"
    jira: JiraSettings = Field(default_factory=JiraSettings)
    outbox_max_attempts: int = Field(default=50, ge=1)
    outbox_backoff_seconds: float = Field(default=5.0, gt=0)
    # added by the ticketing integration
    outbox_max_backoff_seconds: float = Field(default=600.0, gt=0)
    outbox_batch: int = Field(default=20, ge=1)
    duplicate_method: Literal["auto", "embedding", "tokens", "off"] = "auto"
    duplicate_embedding_threshold: float = Field(default=0.65, ge=0, le=1)
    duplicate_token_threshold: float = Field(default=0.5, ge=0, le=1)
    transcript_lines: int = Field(default=20, ge=0, le=200)
    notify_triage: bool = True  # post new tickets to slack.triage_channel when it is set
    # follow-ups: a ticket waiting on the employee gets one reminder after this many working days (Mon-Fri)
    reminder_working_days: int = Field(default=2, ge=1, le=60)
