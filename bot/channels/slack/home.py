"""The App Home tab: what the bot can do, the employee's open tickets, a button to open one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

from slack_sdk import WebClient

from bot.channels.slack import texts
from bot.channels.slack.blocks import (
    MAX_BLOCKS_VIEW,
    action_blocks,
    context,
    escape,
    header,
    link,
    section,
)
from bot.channels.slack.identity import UserResolver
from bot.messages import Button
from bot.storage.session import Database

if TYPE_CHECKING:
    from integrations.ticketing.base import TicketingBackend

log = logging.getLogger(__name__)
MAX_TICKETS = 15


class HomeTicket(TypedDict):
    """One line of "Your open tickets"."""

    key: str
    summary: str
    status: str
    url: str | None


# The requester's open tickets by e-mail; None when they cannot be listed (no e-mail, no backend).
TicketLister = Callable[[str | None], list[HomeTicket] | None]


def ticket_lister(ticketing: Callable[[], TicketingBackend], db: Database) -> TicketLister:
    """A :data:`TicketLister` over the backend's ``tickets_of`` (built on first use, errors logged)."""

    def open_tickets(email: str | None) -> list[HomeTicket] | None:
        if not email:
            return None
        try:
            backend = ticketing()
        except Exception:  # ticketing not installed or misconfigured: show the Home without tickets
            log.warning("ticketing unavailable for App Home", exc_info=True)
            return None
        try:
            with db.session() as session:
                found = list(backend.tickets_of(email, session=session))
        except Exception:
            log.warning("could not list tickets for App Home", exc_info=True)
            return None
        return [HomeTicket(key=t.key or texts.HOME_QUEUED_KEY, summary=t.summary, status=t.status, url=t.url)
                for t in found if str(t.status_category) != "done"]

    return open_tickets


def home_view(*, tickets: list[HomeTicket] | None, command: str = "/helpdesk") -> dict[str, Any]:
    """The Home tab's view: capabilities, up to 15 open tickets, an "Open a ticket" button."""
    blocks: list[dict[str, Any]] = [header(texts.HOME_TITLE),
                                       section(texts.HOME_CAPABILITIES.format(command=command)),
                                       {"type": "divider"}, header(texts.HOME_TICKETS_TITLE)]
    if tickets is None:
        blocks.append(context(texts.HOME_TICKETS_UNAVAILABLE))
    elif not tickets:
        blocks.append(section(texts.HOME_NO_TICKETS))
    else:
        for t in tickets[:MAX_TICKETS]:
            blocks.append(section(f"*{link(t.get('url'), str(t['key']))}* — {escape(str(t['summary']))}\n"
                                  f"_{escape(str(t['status']))}_"))
        if len(tickets) > MAX_TICKETS:
            blocks.append(context(texts.HOME_MORE_TICKETS.format(count=len(tickets) - MAX_TICKETS)))
    blocks += action_blocks([Button(texts.OPEN_TICKET_BUTTON, "ticket.open", {"summary": ""}, style="primary")])
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS_VIEW]}


class HomeTab:
    """Publishes the Home tab of one employee (``views.publish``)."""

    def __init__(self, client: WebClient, users: UserResolver, open_tickets: TicketLister, *,
                 command: str) -> None:
        self.client = client
        self.users = users
        self.open_tickets = open_tickets
        self.command = command

    def publish(self, user_id: str) -> None:
        """Build and publish ``user_id``'s Home with their open tickets."""
        who = self.users.resolve(user_id)
        view = home_view(tickets=self.open_tickets(who.email), command=self.command)
        self.client.views_publish(user_id=user_id, view=view)
