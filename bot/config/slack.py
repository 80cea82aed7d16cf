"""Slack settings (owned by the Slack adapter)."""

from __future__ import annotations

from pydantic import Field

from bot.settings_base import Credential, Section, SharedSecret


class SlackSettings(Section):
    """Slack app credentials. Unset bot_token means the Slack channel is off.

    HTTP mode needs ``bot_token`` + ``signing_secret``; Socket Mode needs
    ``bot_token`` + ``app_token`` (``xapp-…``). Both may be set at once.
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
        return self.bot_token is not None

    @property
    def http_enabled(self) -> bool:
        return self.bot_token is not None and self.signing_secret is not None

    @property
    def socket_mode_enabled(self) -> bool:
        return self.bot_token is not None and self.app_token is not None
