"""One Slack turn: resolve who asked (``users.info``), build the Message, let the engine answer."""

from __future__ import annotations

from typing import Protocol

from bot.channels.slack.identity import UserResolver
from bot.channels.slack.payloads import to_message
from bot.messages import Action, Message, Reply


class TurnHandler(Protocol):
    """What answers a Message: :class:`bot.engine.Engine` (or a test double)."""

    def handle(self, message: Message) -> Reply:
        """Process one message or button press and return the reply."""
        ...


class Turns:
    """Runs turns for Slack users; the e-mail comes from their Slack profile, never from chat."""

    def __init__(self, engine: TurnHandler, users: UserResolver) -> None:
        self.engine = engine
        self.users = users

    def run(self, *, user_id: str, text: str, channel_id: str | None, thread_ts: str | None,
            private: bool, event_id: str | None = None, action: Action | None = None) -> Reply:
        """The engine's reply to ``text`` (or ``action``) from ``user_id`` in this channel/thread."""
        who = self.users.resolve(user_id)
        return self.engine.handle(to_message(who, text=text, channel_id=channel_id, thread_ts=thread_ts,
                                             private=private, event_id=event_id, action=action))
