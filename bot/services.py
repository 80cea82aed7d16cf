"""The composition root: builds each collaborator once from settings, lazily, and hands them out typed.

Everything outside the engine is reached through here, so a test can build
``Services`` on a scratch database and swap a collaborator by passing it in
(``Services(settings, db, encoder=fake)``). Flows get their collaborators
from :func:`bot.flows.build_flows`, background jobs from
:func:`bot.worker.build_jobs`; neither reaches back into this object.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.encoding import TextEncoder
from bot.messages import Reply
from bot.storage.session import Database

if TYPE_CHECKING:
    from bot.flows import FlowRegistry
    from bot.notices import NoticeRouter
    from integrations.directory.client import LdapDirectory
    from integrations.ticketing.base import TicketingBackend
    from intents.api import IntentParser
    from knowledge_base.service import KnowledgeBase

# How a push channel (Slack) delivers a queued notification to one of its users.
Sender = Callable[[str, Reply], None]


class Services:
    """Lazily-built collaborators shared by all turns of one process."""

    def __init__(
        self,
        settings: Settings,
        db: Database | None = None,
        *,
        encoder: TextEncoder | None = None,
        nlu: IntentParser | None = None,
        kb: KnowledgeBase | None = None,
        ticketing: TicketingBackend | None = None,
        directory: LdapDirectory | None = None,
    ) -> None:
        self.settings = settings
        self.db = db or Database(settings.database.url.get_secret_value(), echo=settings.database.echo)
        self.channel_senders: dict[str, Sender] = {}
        # explicit replacements (tests, tools); each is used instead of building from settings
        for name, value in (("encoder", encoder), ("nlu", nlu), ("kb", kb), ("ticketing", ticketing),
                            ("directory", directory)):
            if value is not None:
                self.__dict__[name] = value  # pre-fills the cached_property below

    def has_loaded(self, name: str) -> bool:
        """Whether a lazy collaborator (e.g. ``"encoder"``) is already built — nothing is loaded to find out."""
        return name in self.__dict__

    @cached_property
    def secrets(self) -> tuple[str, ...]:
        """Every configured secret's plain value, for redaction."""
        return tuple(self.settings.secret_values())

    @cached_property
    def encoder(self) -> TextEncoder:
        """The process's sentence encoder, loaded on first use: ONNX Runtime (torch-free, micro-batched) when
        exported beside the models, sentence-transformers otherwise."""
        from intents.encoder import get_encoder

        return get_encoder(self.settings.paths.models_dir)

    @cached_property
    def nlu(self) -> IntentParser:
        """The configured intent parser: a remote Rasa server, or the built-in model, which follows the newest
        saved version (``bot.nlu_reload``)."""
        nlu = self.settings.nlu
        if nlu.backend == "rasa":
            from integrations.rasa.client import build_rasa_parser

            return build_rasa_parser(nlu)
        from bot.nlu_reload import build_live_parser
        from intents.factory import NluPaths

        paths = self.settings.paths
        return build_live_parser(nlu, NluPaths(paths.data_dir, paths.models_dir, paths.var_dir),
                                 encoder_provider=lambda: self.encoder)

    @cached_property
    def kb(self) -> KnowledgeBase:
        """The knowledge base: articles, the live index, search."""
        from knowledge_base.factory import build_knowledge_base

        return build_knowledge_base(self.settings.kb, self.db, encoder_provider=lambda: self.encoder)

    @cached_property
    def ticketing(self) -> TicketingBackend:
        """The configured ticketing backend (local queue or Jira)."""
        from integrations.ticketing.factory import build_ticketing

        return build_ticketing(self.settings.ticketing)

    @cached_property
    def directory(self) -> LdapDirectory | None:
        """The directory client, or None when ``directory.kind = "none"``."""
        from integrations.directory.factory import build_directory

        return build_directory(self.settings.directory)

    @cached_property
    def notices(self) -> NoticeRouter:
        """Turns the libraries' neutral notices into queued chat notifications."""
        from bot.notices import NoticeRouter

        return NoticeRouter(self.settings.slack, self.settings.ticketing)

    @cached_property
    def flows(self) -> FlowRegistry:
        """Every conversation flow, wired with its collaborators."""
        from bot.flows import build_flows

        return build_flows(self)

    def register_sender(self, channel: str, sender: Sender) -> None:
        """A channel adapter registers how to deliver a Notification to its users."""
        self.channel_senders[channel] = sender
