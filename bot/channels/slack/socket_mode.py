"""Socket Mode: the same bolt App, fed over a WebSocket (no public URL needed)."""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.channels.slack.adapter import SlackAdapter
from bot.errors import ConfigError

log = logging.getLogger(__name__)


class SocketModeRunner:
    """``apps.connections.open`` → WebSocket → envelopes → bolt listeners → acks."""

    def __init__(self, adapter: SlackAdapter) -> None:
        token = adapter.settings.app_token
        if token is None:
            raise ConfigError("Socket Mode needs slack.app_token (an app-level token starting with xapp-).")
        self.adapter = adapter
        self.handler = SocketModeHandler(adapter.app, app_token=token.get_secret_value(),
                                         web_client=adapter.client,
                                         logger=logging.getLogger("bot.channels.slack.socket_mode"))

    def connect(self) -> None:
        """Connect in background threads and return."""
        self.handler.connect()
        log.info("Slack Socket Mode connected")

    def run_forever(self) -> None:
        """Connect and block (``helpdesk slack socket``)."""
        self.handler.start()

    def close(self) -> None:
        self.handler.close()
