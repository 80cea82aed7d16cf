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
    from bot.flows.router import RouterFlow
    from bot.flows.smalltalk import SmalltalkFlow
    from bot.flows.tickets import TicketFlow

    flows = FlowRegistry()
    flows.add(RouterFlow())
    flows.add(SmalltalkFlow())
    flows.add(AnswerFlow())
    flows.add(TicketFlow())
    flows.add(AccountFlow())
    return flows


__all__ = ["Flow", "FlowRegistry", "build_flows"]
