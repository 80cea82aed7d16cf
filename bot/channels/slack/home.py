"""The App Home tab: what the bot can do, the employee's open tickets, a button to open one."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.channels.slack.blocks import (
    MAX_BLOCKS_VIEW,
    action_blocks,
    context,
    escape,
    header,
    link,
    section,
)
from bot.messages import Button

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
MAX_TICKETS = 15

CAPABILITIES = (
    "*Ask me anything IT* — in a direct message, by @mentioning me in a channel "
    "(I answer in the thread), or with `{command} your question` (only you see the answer).\n"
    "• Answers from the IT knowledge base (VPN, Wi-Fi, MFA, e-mail, printing, policies…) with the source article\n"
    "• Unlock your account or reset your password (answered only to you)\n"
    "• Open a ticket for IT staff, and check it: _\"status of IT-123\"_, _\"my tickets\"_"
)


def open_tickets(services: "Services", *, email: str | None) -> list[dict[str, Any]] | None:
    """The requester's open tickets via ``services.ticketing.tickets_of`` (None: not available)."""
    if not email:
        return None
    try:
        ticketing = services.ticketing
    except Exception:  # ticketing not installed or misconfigured: show the Home without tickets
        log.warning("ticketing unavailable for App Home", exc_info=True)
        return None
    tickets_of = getattr(ticketing, "tickets_of", None)
    if tickets_of is None:
        return None
    try:
        with services.db.session() as session:
            found = list(tickets_of(email, session=session))
    except Exception:
        log.warning("could not list tickets for App Home", exc_info=True)
        return None
    rows = []
    for t in found:
        if str(getattr(t, "status_category", "open")) == "done":
            continue
        rows.append({"key": getattr(t, "key", None) or "(queued)", "summary": getattr(t, "summary", ""),
                     "status": getattr(t, "status", ""), "url": getattr(t, "url", None)})
    return rows


def home_view(*, tickets: list[dict[str, Any]] | None, command: str = "/helpdesk") -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [header("IT helpdesk"), section(CAPABILITIES.format(command=command)),
                                    {"type": "divider"}, header("Your open tickets")]
    if tickets is None:
        blocks.append(context("Ask me _\"my tickets\"_ to see your tickets."))
    elif not tickets:
        blocks.append(section("You have no open tickets. :tada:"))
    else:
        for t in tickets[:MAX_TICKETS]:
            blocks.append(section(f"*{link(t.get('url'), str(t['key']))}* — {escape(str(t['summary']))}\n"
                                  f"_{escape(str(t['status']))}_"))
        if len(tickets) > MAX_TICKETS:
            blocks.append(context(f"…and {len(tickets) - MAX_TICKETS} more: ask me _\"my tickets\"_."))
    blocks += action_blocks([Button("Open a ticket", "ticket.open", {"summary": ""}, style="primary")])
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS_VIEW]}
