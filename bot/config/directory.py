"""Directory (LDAP / Active Directory) settings (owned by the directory integration)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from bot.config.core import Section


class DirectorySettings(Section):
    """How to reach the company directory. ``kind = "none"`` turns account actions into tickets."""

    kind: Literal["none", "openldap", "ad"] = "none"
    url: str | None = None  # ldaps://host:636 or ldap://host:389 (+ start_tls)
    start_tls: bool = False
    ca_file: Path | None = None
    allow_insecure: bool = False
    bind_dn: str | None = None
    bind_password: SecretStr | None = None
    base_dn: str | None = None
    people_base: str | None = None
    protected_groups: list[str] = Field(default_factory=list)
    protected_bases: list[str] = Field(default_factory=list)
    reset_mode: Literal["link", "temporary"] = "link"
    reset_link_minutes: int = Field(default=15, ge=1, le=1440)
    max_unlocks_per_day: int = Field(default=3, ge=0)
    max_resets_per_day: int = Field(default=3, ge=0)
    watch_lockouts: bool = False
    lockout_alarm_threshold: int = Field(default=10, ge=1)
    lockout_alarm_window_minutes: int = Field(default=10, ge=1)
    timeout_seconds: float = Field(default=5.0, gt=0)

    @property
    def configured(self) -> bool:
        return self.kind != "none"
