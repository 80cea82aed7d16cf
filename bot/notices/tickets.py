"""Chat notifications for the ticketing library's notices: the texts, rating and link buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bot.messages import Button, Outcome, Reply
from bot.notices import followups
from integrations.ticketing.followups import TicketReminder
from integrations.ticketing.notices import (
    NewTicketForTriage,
    TicketCommented,
    TicketCreated,
    TicketFailed,
    TicketFailedForTriage,
    TicketReopened,
    TicketResolved,
    TicketWaitingOnEmployee,
)

if TYPE_CHECKING:
    from bot.notices import Outgoing

RATINGS = ((5, "😀 Great"), (3, "😐 OK"), (1, "🙁 Poor"))
RATE_ACTION = "ticket.rate"
LINK_ACTION = "ticket.link"
# what a push channel may do more with two notices (Slack: the triage card, the ticket's DM thread);
# elsewhere they read as the plain texts
TRIAGE_CARD_INTENT = "ticket.triage_card"
IT_REPLY_INTENT = "ticket.it_reply"


def _quote(text: str, limit: int = 600) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _link(key: str | None, url: str | None) -> list[Button]:
    return [Button(label=f"Open {key}", action_id=LINK_ACTION, url=url)] if url else []


def _who(name: str | None, email: str | None, user_key: str) -> str:
    return name or email or user_key


class _AboutATicket(Protocol):
    """What every requester-facing ticket notice carries (read-only, like the frozen dataclasses)."""

    @property
    def requester_user_key(self) -> str: ...
    @property
    def requester_email(self) -> str | None: ...
    @property
    def key(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...


def _to_requester(notice: _AboutATicket, dedupe_key: str, text: str, *, outcome: Outcome = Outcome.INFO,
                  buttons: list[Button] | None = None, intent: str | None = None) -> list[Outgoing]:
    """One private message to the requester about their ticket, with the ticket's link button last."""
    from bot.notices import Outgoing

    return [Outgoing(user_key=notice.requester_user_key, email=notice.requester_email, dedupe_key=dedupe_key,
                     reply=Reply(text=text, outcome=outcome, ticket_key=notice.key, ticket_url=notice.url,
                                 private=True, buttons=[*(buttons or []), *_link(notice.key, notice.url)],
                                 intent=intent))]


def render(notice: object, *, post_new_tickets: bool = True) -> list[Outgoing] | None:
    """The notifications for ``notice``, or None when it is not one of the ticketing library's notices."""
    from bot.notices import Outgoing

    if isinstance(notice, TicketCreated):
        return _to_requester(notice, f"ticket:{notice.idem_key}:created",
                             f"Your ticket is now {notice.key}: “{_quote(notice.summary, 200)}”. "
                             "IT staff have it; I'll tell you when they reply.", outcome=Outcome.ESCALATED)
    if isinstance(notice, TicketCommented):
        return _to_requester(notice, f"ticket:{notice.key}:comment:{notice.comment_id}",
                             f"{notice.author} replied on {notice.key} "
                             f"(“{_quote(notice.summary, 120)}”):\n> {_quote(notice.body)}",
                             intent=IT_REPLY_INTENT)
    if isinstance(notice, TicketResolved):
        resolution = f" ({notice.resolution})" if notice.resolution else ""
        fix = followups.fix_buttons(notice.key, notice.requester_user_key)  # "Did this fix it?" Yes / Reopen
        return _to_requester(notice, f"ticket:{notice.key}:resolved:{notice.occurrence}",
                             f"Your ticket {notice.key} (“{_quote(notice.summary, 120)}”) is resolved"
                             f"{resolution}. How did IT do?" + (f" {followups.FIX_QUESTION}" if fix else ""),
                             buttons=[*(Button(label=label, action_id=RATE_ACTION,
                                               value={"key": notice.key, "rating": score})
                                        for score, label in RATINGS), *fix])
    if isinstance(notice, TicketReminder):
        return _to_requester(notice, f"ticket:{notice.key}:reminder:{notice.occurrence}",
                             followups.reminder_text(notice.key, _quote(notice.summary, 120), notice.working_days),
                             buttons=[Button(label="Reply to IT", action_id="ticket.add_comment",
                                             value={"key": notice.key})])
    if isinstance(notice, TicketReopened):
        return _to_requester(notice, f"ticket:{notice.key}:reopened:{notice.occurrence}",
                             f"IT reopened your ticket {notice.key} (“{_quote(notice.summary, 120)}”): "
                             "they are working on it again. I'll tell you when they reply.")
    if isinstance(notice, TicketWaitingOnEmployee):
        return _to_requester(notice, f"ticket:{notice.key}:waiting:{notice.occurrence}",
                             f"IT is waiting for your reply on {notice.key} "
                             f"(“{_quote(notice.summary, 120)}”) before they can go on. "
                             "Tell me what they need and I'll add it to the ticket.",
                             buttons=[Button(label="Reply to IT", action_id="ticket.add_comment",
                                             value={"key": notice.key})])
    if isinstance(notice, TicketFailed):
        return [Outgoing(user_key=notice.requester_user_key, email=notice.requester_email,
                         dedupe_key=f"ticket:{notice.idem_key}:failed",
                         reply=Reply(text=f"I couldn't file your ticket “{_quote(notice.summary, 120)}” in Jira "
                                          "automatically. It is saved, and IT staff have been alerted to file it.",
                                     outcome=Outcome.ERROR, private=True))]
    if isinstance(notice, NewTicketForTriage):
        if not post_new_tickets:
            return []
        who = _who(notice.requester_name, notice.requester_email, notice.requester_user_key)
        return [Outgoing(to_it=True, dedupe_key=f"ticket:{notice.idem_key}:triage",
                         reply=Reply(text=f"New ticket {notice.key} from {who}: “{_quote(notice.summary, 200)}” "
                                          f"(category {notice.category or 'general'}, urgency {notice.urgency})",
                                     outcome=Outcome.ESCALATED, ticket_key=notice.key, ticket_url=notice.url,
                                     buttons=_link(notice.key, notice.url), intent=TRIAGE_CARD_INTENT))]
    if isinstance(notice, TicketFailedForTriage):
        who = _who(notice.requester_name, notice.requester_email, notice.requester_user_key)
        return [Outgoing(to_it=True, dedupe_key=f"ticket:{notice.idem_key}:failed-triage",
                         reply=Reply(text=f"Jira refused a ticket from {who}: “{_quote(notice.summary, 200)}”. "
                                          "See `helpdesk tickets outbox`, fix the cause, then retry it.",
                                     outcome=Outcome.ERROR))]
    return None
