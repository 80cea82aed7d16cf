"""The account flow's memory of this conversation: the open offer, a ticket offer, the employee's words.

An Unlock / reset button is honoured only while the conversation holds its offer
(``offer``), for :data:`OFFER_MINUTES`; a ticket is opened only from the remembered
ticket offer (``ticket``: summary, urgency, the reason IT needs, the person asked about),
so nothing IT-only ever travels in a button value the employee's client can read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from bot.flows.base import TurnContext
from bot.messages import Outcome, Reply
from bot.storage.base import utcnow
from integrations.directory import audit
from integrations.directory.models import ResetLink

OFFER_MINUTES = 30  # an offer left unanswered longer than this is shown again, not acted on
# One answer for "not your link" and "no link": a button never tells anyone whose links exist.
NOT_YOUR_LINK = ("That button only works for the person the reset link was sent to, while the link is valid. "
                 "To reset your own password, just ask me.")


def fresh(ctx: TurnContext, flow: str) -> bool:
    """Whether ``flow`` holds this conversation and its offer is recent enough to act on."""
    if ctx.state.active_flow != flow:
        return False
    try:
        when = dt.datetime.fromisoformat(str(ctx.slots.get("at")))
    except ValueError:
        return False
    return utcnow() - when <= dt.timedelta(minutes=OFFER_MINUTES)


def remember(ctx: TurnContext, flow: str, what: str, *, offer: str | None, ticket: dict[str, Any] | None) -> None:
    """Keep the open offer (and a ticket offer) for this conversation, with the employee's first words."""
    words = ctx.slots.get("words") if fresh(ctx, flow) else None
    action = ctx.message.action
    typed = ctx.redact(ctx.message.text).strip()[:2000] \
        if action is None or action.action_id.startswith("router.") else ""
    ctx.begin(flow, what=what, offer=offer, ticket=ticket, words=words or typed or None, at=utcnow().isoformat())


def open_reset(ctx: TurnContext) -> Reply:
    """Someone pressed a reset-link button (Slack also reports presses of URL buttons).

    The value names nothing (it is untrusted): only the presser's own live link counts.
    Someone else's press is refused with one message and cancels nothing.
    """
    own = ctx.session.scalars(select(ResetLink.id).where(
        ResetLink.user_key == ctx.message.user_key, ResetLink.used_at.is_(None),
        ResetLink.revoked_reason.is_(None), ResetLink.expires_at > utcnow()).limit(1)).first()
    if own is None:
        audit.record(ctx.session, actor=ctx.message.user_key, action="reset_link", result="refused",
                     email=None, detail="reset-link button pressed by someone without a live link of their own")
        return Reply(text=NOT_YOUR_LINK, outcome=Outcome.ERROR, private=True)
    return Reply(text="The reset page is open in your browser. The link works once.", outcome=Outcome.INFO,
                 private=True)
