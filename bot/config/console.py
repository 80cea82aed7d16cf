"""Console settings (``[console]``): sessions, login links, roles, identity providers.

Sign-in providers are OpenID Connect: "Sign in with Slack" (``[console.slack]``, issuer
https://slack.com) and any number of generic providers (``[[console.oidc]]``: Okta, Entra ID,
Keycloak, Google…) found by their discovery URL. Client secrets are credentials: an empty one
is refused when the settings load (leave the provider out to turn it off).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from bot.settings_base import Credential, Section

SLACK_DISCOVERY_URL = "https://slack.com/.well-known/openid-configuration"
ROLES = ("trainer", "it-staff", "admin")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def _discovery_url(value: str) -> str:
    """An OpenID discovery URL over https (http only to this machine, for tests)."""
    from bot.security import is_loopback  # (here: bot.security imports bot.config)

    if not value.endswith("/.well-known/openid-configuration"):
        raise ValueError("must be the provider's …/.well-known/openid-configuration URL")
    if not (value.startswith("https://") or (value.startswith("http://")
                                               and is_loopback(urlsplit(value).hostname))):
        raise ValueError("must be https (http only on this machine, for tests)")
    return value


def _emails(values: list[str]) -> list[str]:
    cleaned = [v.strip().lower() for v in values if v.strip()]
    for v in cleaned:
        if "@" not in v:
            raise ValueError(f"'{v}' is not an e-mail address")
    return cleaned


class OidcProvider(Section):
    """One OpenID Connect provider, found by its discovery document."""

    name: str  # used in the sign-in URLs: /console/login/oidc/<name>
    label: str = ""  # the button text ("Sign in with <label>"); default: the name
    discovery_url: str  # https://<issuer>/.well-known/openid-configuration
    client_id: str = Field(min_length=1)
    client_secret: Credential
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be lower-case letters, digits, '-' or '_' (at most 40)")
        return value

    @field_validator("discovery_url")
    @classmethod
    def _discovery(cls, value: str) -> str:
        return _discovery_url(value)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("must include 'openid'")
        return value

    @property
    def button(self) -> str:
        return self.label or self.name.capitalize()


class SlackSignIn(Section):
    """Sign in with Slack: the Slack app's client id and secret (Basic Information page)."""

    client_id: str = Field(min_length=1)
    client_secret: Credential
    discovery_url: str = SLACK_DISCOVERY_URL  # overridable for tests only

    @field_validator("discovery_url")
    @classmethod
    def _discovery(cls, value: str) -> str:
        return _discovery_url(value)  # refused when the settings load, not at the first sign-in

    def provider(self) -> OidcProvider:
        return OidcProvider(name="slack", label="Slack", discovery_url=self.discovery_url,
                            client_id=self.client_id, client_secret=self.client_secret,
                            scopes=["openid", "email", "profile"])


class ConsoleSettings(Section):
    """The web console under /console on `helpdesk serve`."""

    enabled: bool = True
    session_minutes: int = Field(default=60, ge=1, le=24 * 60)  # idle: no request for this long → sign in again
    session_max_hours: int = Field(default=12, ge=1, le=24 * 7)  # absolute: from sign-in, whatever the activity
    login_link_minutes: int = Field(default=15, ge=1, le=24 * 60)  # `helpdesk console login-link` default
    sign_ins_per_hour: int = Field(default=60, ge=1)  # sign-in attempts (OIDC starts, link submits) per address
    # a live session's roles are worked out again (e-mails + directory) at most this often; 0 = every request
    role_check_seconds: int = Field(default=300, ge=0, le=24 * 3600)
    # roles by e-mail (case-insensitive) …
    trainers: list[str] = Field(default_factory=list)
    it_staff: list[str] = Field(default_factory=list)
    admins: list[str] = Field(default_factory=list)
    # … and by directory group DN (when a directory is configured)
    trainer_groups: list[str] = Field(default_factory=list)
    it_staff_groups: list[str] = Field(default_factory=list)
    admin_groups: list[str] = Field(default_factory=list)
    slack: SlackSignIn | None = None
    oidc: list[OidcProvider] = Field(default_factory=list)

    @field_validator("trainers", "it_staff", "admins")
    @classmethod
    def _check_emails(cls, value: list[str]) -> list[str]:
        return _emails(value)

    @field_validator("oidc")
    @classmethod
    def _unique(cls, value: list[OidcProvider]) -> list[OidcProvider]:
        names = [p.name for p in value]
        if len(names) != len(set(names)) or "slack" in names:
            raise ValueError("provider names must be unique and not 'slack' (use [console.slack] for Slack)")
        return value

    def providers(self) -> list[OidcProvider]:
        """Every configured sign-in provider, Slack first."""
        return ([self.slack.provider()] if self.slack else []) + list(self.oidc)

    def email_roles(self, email: str) -> set[str]:
        """The roles configured for this e-mail address."""
        e = email.strip().lower()
        return {role for role, members in (("trainer", self.trainers), ("it-staff", self.it_staff),
                                          ("admin", self.admins)) if e in members}

    def group_roles(self) -> list[tuple[str, str]]:
        """(role, group DN) pairs to check in the directory."""
        return [(role, dn) for role, dns in (("trainer", self.trainer_groups), ("it-staff", self.it_staff_groups),
                                             ("admin", self.admin_groups)) for dn in dns]
