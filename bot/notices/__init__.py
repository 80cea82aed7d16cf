"""The bot's side of the libraries' notice ports: neutral events in, queued chat notifications out.

Ticketing and the directory report what happened (a ticket was commented, an
account locked) as plain dataclasses through their sink protocols
(``integrations.ticketing.notices``, ``integrations.directory.notices``). Here
each event becomes one or more chat replies, with the flows' buttons and the
capability's wording, and is queued in the notification outbox inside the
producer's transaction. Where IT's own posts go (the triage channel) is
decided here too, so no library reads the Slack settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.config.slack import SlackSettings
from bot.messages import Reply
from bot.notify import enqueue
from integrations.ticketing.settings import TicketingSettings

Follower = Callable[[Session, object], None]  # also told of every notice, in the producer's transaction


@dataclass(frozen=True)
class Outgoing:
    """One notification to queue: for a user (``user_key``) or, with ``to_it``, IT's triage channel."""

    reply: Reply
    dedupe_key: str
    user_key: str | None = None
    email: str | None = None
    to_it: bool = False


class NoticeRouter:
    """Implements every library's notice sink; ``publish`` is called inside the producer's transaction."""

    def __init__(self, slack: SlackSettings, ticketing: TicketingSettings) -> None:
        channel = (slack.triage_channel or "").lstrip("#")
        self.triage_key = (channel if ":" in channel else f"slack:{channel}") if channel else None
        self.post_new_tickets = ticketing.notify_triage
        self._followers: list[Follower] = []

    def follow(self, follower: Follower) -> None:
        """Also hand every notice to ``follower`` (a channel's own surface, e.g. Slack's triage cards); once."""
        if follower not in self._followers:  # an adapter built again on the same services adds nothing
            self._followers.append(follower)

    def publish(self, session: Session, notice: object) -> None:
        """Queue what ``notice`` means for the employee (and for IT), then tell the followers."""
        for out in render(notice, post_new_tickets=self.post_new_tickets):
            user_key = self.triage_key if out.to_it else out.user_key
            if not user_key:
                continue
            enqueue(session, user_key=user_key, email=out.email, reply=out.reply, dedupe_key=out.dedupe_key)
        for follower in self._followers:
            follower(session, notice)


def render(notice: object, *, post_new_tickets: bool = True) -> list[Outgoing]:
    """The notifications one notice turns into (an unknown notice type is a programming error)."""
    from bot.notices import directory, tickets

    for module in (tickets, directory):
        rendered = module.render(notice, post_new_tickets=post_new_tickets)
        if rendered is not None:
            return rendered
    raise TypeError(f"no renderer for notice {type(notice).__name__}")


__all__ = ["Follower", "NoticeRouter", "Outgoing", "render"]
