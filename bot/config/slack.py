"""Slack settings (owned by the Slack adapter)."""

from __future__ import annotations

import base64
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, model_validator

from bot.settings_base import Credential, Section, SharedSecret


def _fernet_key(value: SecretStr) -> SecretStr:
    """A Fernet key: URL-safe base64 of 32 random bytes (``helpdesk``'s docs show how to make one)."""
    try:
        raw = base64.urlsafe_b64decode(value.get_secret_value().encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) != 32:
        raise ValueError("must be a Fernet key: URL-safe base64 of 32 random bytes "
                         "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')")
    return value


TokenKey = Annotated[SharedSecret, AfterValidator(_fernet_key)]


class SlackOAuthSettings(Section):
    """``[slack.oauth]``: install the app through Slack's OAuth flow (several workspaces, Enterprise Grid).

    Off unless ``client_id``, ``client_secret`` and ``token_key`` are all set; then each request
    is answered with the token of the workspace (or organisation) it came from, and
    ``slack.bot_token`` is only the fallback for posts that name no user (the triage channel).
    Tokens are stored encrypted with ``token_key``; ``old_token_key`` still decrypts during a
    key rotation (rows are re-encrypted with ``token_key`` at start-up).
    """

    client_id: str | None = None
    client_secret: SharedSecret | None = None
    token_key: TokenKey | None = None
    old_token_key: TokenKey | None = None
    scopes: list[str] = Field(default_factory=list)  # empty: the bot scopes of the shipped manifest.yml
    user_scopes: list[str] = Field(default_factory=list)
    redirect_uri: str | None = None  # empty: server.public_url + /slack/oauth_redirect
    authorization_url: str = "https://slack.com/oauth/v2/authorize"
    state_expiration_seconds: int = Field(default=600, ge=60, le=3600)
    token_cache_seconds: float = Field(default=60.0, ge=0)

    @property
    def enabled(self) -> bool:
        return bool(self.client_id) and self.client_secret is not None and self.token_key is not None

    @model_validator(mode="after")
    def _complete(self) -> SlackOAuthSettings:
        partial = [bool(self.client_id), self.client_secret is not None, self.token_key is not None]
        if any(partial) and not all(partial):
            raise ValueError("slack.oauth needs client_id, client_secret and token_key together")
        return self


class SlackSettings(Section):
    """Slack app credentials. Unset bot_token means the Slack channel is off.

    HTTP mode needs ``bot_token`` + ``signing_secret``; Socket Mode needs
    ``bot_token`` + ``app_token`` (``xapp-…``). Both may be set at once. With ``oauth``
    the bot token is optional in either mode: one app-level connection carries the events
    of every workspace, each answered with the token its install stored.
    """

    bot_token: Credential | None = None
    signing_secret: SharedSecret | None = None
    app_token: Credential | None = None  # xapp-… enables Socket Mode
    api_base_url: str = "https://slack.com/api/"
    triage_channel: str | None = None
    user_cache_seconds: int = Field(default=3600, ge=0)
    event_retention_hours: int = Field(default=24, ge=1)
    slash_command: str = "/helpdesk"
    request_timeout_seconds: int = Field(default=15, ge=1)
    rate_limit_retries: int = Field(default=8, ge=0)   # 429 → wait Retry-After, retry this often
    max_retry_after_seconds: float = Field(default=120.0, gt=0)
    listener_threads: int = Field(default=8, ge=1)
    socket_mode_in_server: bool = True  # `helpdesk serve` also connects Socket Mode when app_token is set
    # abuse limits: requests over this size are refused (413) before they are read; turns per user and minute
    max_request_kb: int = Field(default=512, ge=16, le=1024)
    turns_per_minute: int = Field(default=20, ge=1)
    # acknowledged events: a replica owns the ones it took for this long without renewing its claim;
    # after that (it died) any replica answers them, checking every recovery_interval_seconds
    event_lease_seconds: int = Field(default=60, ge=5)
    recovery_interval_seconds: float = Field(default=15.0, gt=0)
    event_max_attempts: int = Field(default=3, ge=1)
    # --- employee surfaces (assistant panel, message shortcuts, the ticket emoji) ----------------
    # reacting with this emoji (its Slack name, no colons) on a message offers its author a ticket
    ticket_emoji: str = Field(default="ticket", min_length=1, max_length=100, pattern=r"^[a-z0-9_+'-]+$")
    # answers in the assistant panel carry Slack's native 👍/👎 (off: the Helpful / Not helpful buttons)
    native_feedback: bool = True
    # --- org-wide / multi-workspace install (OAuth); off: the single bot_token above -----------
    oauth: SlackOAuthSettings = Field(default_factory=SlackOAuthSettings)
    # --- IT triage in Slack (cards in triage_channel, two-way relay) ---------------------------
    # each new ticket is a card with Claim / Reply / Resolve (off: the plain one-line notice)
    triage_cards: bool = True
    # who may work the cards: members of this channel (id, C…/G…) and/or this user group (S…);
    # neither set: the members of the triage channel itself
    it_channel: str | None = None
    it_usergroup: str | None = None
    it_members_cache_seconds: int = Field(default=60, ge=0)
    # how often changes made elsewhere (console, CLI, Jira) are looked for to update the cards
    triage_sync_seconds: float = Field(default=10.0, gt=0)

    @property
    def configured(self) -> bool:
        return self.bot_token is not None or self.oauth.enabled

    @property
    def http_enabled(self) -> bool:
        return self.configured and self.signing_secret is not None

    @property
    def socket_mode_enabled(self) -> bool:
        return self.configured and self.app_token is not None
