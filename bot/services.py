"""The wiring: builds each integration once from settings, lazily.

Everything outside the engine is reached through here, so a test can build
``Services`` on a scratch database and swap a backend by passing it in.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable

from bot.config import Settings
from bot.storage.session import Database

if TYPE_CHECKING:
    from bot.flows.base import Flow
    from intents.api import IntentParser
    from intents.encoder import Encoder

# Flow name -> "module:Class". Each flow module is owned by its capability.
FLOW_CLASSES: dict[str, str] = {
    "router": "bot.flows.router:RouterFlow",
    "smalltalk": "bot.flows.smalltalk:SmalltalkFlow",
    "answer": "bot.flows.answer:AnswerFlow",
    "ticket": "bot.flows.tickets:TicketFlow",
    "account": "bot.flows.account:AccountFlow",
}


def _load(path: str) -> Any:
    import importlib

    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


class Services:
    """Lazily-built collaborators shared by all turns of one process."""

    def __init__(self, settings: Settings, db: Database | None = None, **overrides: Any) -> None:
        self.settings = settings
        self.db = db or Database(settings.database.url.get_secret_value(), echo=settings.database.echo)
        for name, value in overrides.items():  # e.g. ticketing=FakeBackend(), directory=...
            setattr(self, name, value)
        self.channel_senders: dict[str, Callable[..., Any]] = {}

    @cached_property
    def encoder(self) -> "Encoder":
        from intents.encoder import get_encoder

        return get_encoder()

    @cached_property
    def nlu(self) -> "IntentParser":
        from intents.factory import build_parser

        return build_parser(self.settings, encoder_provider=lambda: self.encoder)

    @cached_property
    def kb(self) -> Any:
        from knowledge_base.factory import build_knowledge_base

        return build_knowledge_base(self.settings, self.db, encoder_provider=lambda: self.encoder)

    @cached_property
    def ticketing(self) -> Any:
        from integrations.ticketing.factory import build_ticketing

        return build_ticketing(self.settings, self.db)

    @cached_property
    def directory(self) -> Any:
        """The directory client, or None when ``directory.kind = "none"``."""
        from integrations.directory.factory import build_directory

        return build_directory(self.settings)

    @cached_property
    def flows(self) -> dict[str, "Flow"]:
        return {name: _load(path)() for name, path in FLOW_CLASSES.items()}

    def register_sender(self, channel: str, sender: Callable[..., Any]) -> None:
        """A channel adapter registers how to deliver a Notification to its users."""
        self.channel_senders[channel] = sender
