"""Conversation flows: each handles a family of intents and its buttons.

:func:`build_flows` is where every flow gets its collaborators; a reader sees
each flow's dependencies here, and nothing is looked up by name at run time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from bot.flows.base import Flow

if TYPE_CHECKING:
    from bot.services import Services


class FlowRegistry(Mapping[str, Flow]):
    """The flows of one process, by name (a flow's name is the prefix of its action ids)."""

    def __init__(self) -> None:
        self._flows: dict[str, Flow] = {}

    def add(self, flow: Flow) -> None:
        """Register ``flow``; two flows with one name is a wiring mistake."""
        if flow.name in self._flows:
            raise ValueError(f"two flows are named {flow.name!r}")
        self._flows[flow.name] = flow

    def __getitem__(self, name: str) -> Flow:
        return self._flows[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._flows)

    def __len__(self) -> int:
        return len(self._flows)


def build_flows(services: Services) -> FlowRegistry:
    """Every flow, constructed with exactly the collaborators it uses."""
    from bot.flows.account import AccountFlow
    from bot.flows.answer import AnswerFlow
    from bot.flows.article_intent import ArticleIntents
    from bot.flows.router import RouterFlow
    from bot.flows.smalltalk import SmalltalkFlow
    from bot.flows.tickets import TicketFlow

    flows = FlowRegistry()
    flows.add(RouterFlow(lambda: services.nlu, services.settings.nlu, flows))
    flows.add(SmalltalkFlow())
    article_intents = ArticleIntents(lambda: services.nlu, lambda: services.kb, lambda: services.settings.nlu)
    flows.add(AnswerFlow(lambda: services.kb, services.settings.kb, article_intents))
    tickets = TicketFlow(ticketing=lambda: services.ticketing, directory=lambda: services.directory,
                         encoder=lambda: services.encoder,
                         loaded_encoder=lambda: services.encoder if services.has_loaded("encoder") else None,
                         settings=services.settings.ticketing, notices=services.notices)
    flows.add(tickets)
    flows.add(AccountFlow(services.settings.directory, lambda: services.directory,
                          public_url=services.settings.server.public_url, escalate=tickets.escalate,
                          self_help=flows["answer"].handle_intent))
    return flows


__all__ = ["Flow", "FlowRegistry", "build_flows"]
