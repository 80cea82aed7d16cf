"""Slack settings (owned by the Slack adapter)."""

from __future__ import annotations

from pydantic import SecretStr

from bot.config.core import Section


class SlackSettings(Section):
    """Slack app credentials. Unset bot_token means the Slack channel is off."""

    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None  # xapp-… enables Socket Mode
    api_base_url: str = "https://slack.com/api/"
    triage_channel: str | None = None
    user_cache_seconds: int = 3600
    event_retention_hours: int = 24

    @property
    def configured(self) -> bool:
        return self.bot_token is not None
