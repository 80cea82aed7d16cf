"""Directory (LDAP / Active Directory) settings (owned by the directory integration)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from bot.settings_base import Credential, Section


class DirectorySettings(Section):
    """How to reach the company directory. ``kind = "none"`` turns account actions into tickets."""

    kind: Literal["none", "openldap", "ad"] = "none"
    url: str | None = None  # ldaps://host:636 or ldap://host:389 (+ start_tls)
    start_tls: bool = False
    ca_file: Path | None = None  # CA bundle to verify the directory's certificate (default: system CAs)
    allow_insecure: bool = False  # plain ldap:// without TLS: development only, logged loudly
    bind_dn: str | None = None
    bind_password: Credential | None = None
    base_dn: str | None = None
    people_base: str | None = None  # where employees live (default: base_dn)
    protected_groups: list[str] = Field(default_factory=list)  # group DNs whose members are never touched
    protected_bases: list[str] = Field(default_factory=list)  # OUs/subtrees never touched
    protected_accounts: list[str] = Field(default_factory=list)  # logins or DNs never touched
    disabled_filter: str | None = None  # extra LDAP filter that marks an account disabled (OpenLDAP)
    reset_mode: Literal["link", "temporary"] = "link"
    reset_link_minutes: int = Field(default=15, ge=1, le=1440)
    max_unlocks_per_day: int = Field(default=3, ge=0)
    max_resets_per_day: int = Field(default=3, ge=0)
    reset_page_max_attempts: int = Field(default=5, ge=1)  # bad submissions before a link is cancelled
    reset_page_requests_per_hour: int = Field(default=60, ge=1)  # per live link; unknown tokens: per client address
    # submissions of the reset form (password attempts), across links: per account and per client address
    reset_page_submits_per_account_per_hour: int = Field(default=10, ge=1)
    reset_page_submits_per_address_per_hour: int = Field(default=30, ge=1)
    watch_lockouts: bool = False
    watch_interval_seconds: float = Field(default=60.0, ge=0)  # how often the worker looks for lockouts
    lockout_alarm_threshold: int = Field(default=10, ge=1)
    lockout_alarm_window_minutes: int = Field(default=10, ge=1)
    timeout_seconds: float = Field(default=5.0, gt=0)
    uniform_reply_seconds: float = Field(default=0.6, ge=0)  # pad refusals/lookups to this duration
    min_password_length: int = Field(default=12, ge=8, le=128)
    passphrase_length: int = Field(default=20, ge=8, le=128)  # this long: no character classes needed
    common_passwords_file: Path | None = None  # default: data/directory/common-passwords.txt
    temporary_password_length: int = Field(default=16, ge=12, le=64)

    @property
    def configured(self) -> bool:
        return self.kind != "none"

    def reset_page_warnings(self, public_url: str) -> list[str]:
        """What makes the reset page unsafe with this public URL (for `config check` and start-up)."""
        if not self.configured or public_url.startswith("https://"):
            return []
        return [f"server.public_url is {public_url.split(':', 1)[0]}://, so the reset page's CSRF cookie is not "
                "marked Secure and reset links travel in clear: serve it over https:// (behind a TLS proxy)"]
