"""Delivering the triage surface from the notification outbox: cards, card threads and the DM relay thread.

Registered as the ``slack`` notification sender (it hands every other
notification to :meth:`Delivery.send_notification`), so a card, a card update,
a post in a card's thread and IT's reply to the employee are all queued in the
producer's transaction, retried while Slack is down, and sent once.

- the new-ticket notice (``TRIAGE_CARD_INTENT``) posts the ticket's card and
  remembers where it is (``chat.postMessage``); when the card is already there
  (a retry after a crash) it is updated instead;
- ``CARD_UPDATE`` re-renders the card from the ticket as it is now (``chat.update``);
- ``CARD_THREAD`` posts into the card's thread (the employee's answers);
- IT's comment notice (``IT_REPLY_INTENT``) goes into the ticket's thread in the
  employee's DM (started by the first one), where the employee answers.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.channels.slack.blocks import MAX_BLOCKS_MESSAGE, context, render_reply
from bot.channels.slack.delivery import Delivery, is_user_id
from bot.channels.slack.triage_card import Activity, render_card
from bot.channels.slack.triage_models import SlackTicketThread
from bot.messages import Reply
from bot.notices.tickets import IT_REPLY_INTENT, TRIAGE_CARD_INTENT
from bot.notify import enqueue
from bot.storage.base import utcnow
from bot.storage.session import Database
from integrations.ticketing.models import Ticket, TicketEvent
from integrations.ticketing.service import find_ticket

log = logging.getLogger(__name__)
CARD_UPDATE = "slack.triage_card_update"
CARD_THREAD = "slack.triage_card_thread"
FROM_IT_NOTE = ":speech_balloon: *From IT* — reply in this thread and I'll pass your answer on."
GONE = {"message_not_found", "channel_not_found", "cant_update_message", "is_archived", "not_in_channel"}


def thread_row(session: Session, ticket_id: int) -> SlackTicketThread:
    """The ticket's Slack row, created when missing (a concurrent creator wins; its row is used)."""
    row = session.get(SlackTicketThread, ticket_id)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = SlackTicketThread(ticket_id=ticket_id)
            session.add(row)
            session.flush()
        return row
    except IntegrityError:
        found = session.get(SlackTicketThread, ticket_id)
        assert found is not None
        return found


def newest_event(session: Session, ticket_id: int) -> TicketEvent | None:
    """The ticket's latest event (what the card's "last activity" shows)."""
    return session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                           .order_by(TicketEvent.id.desc()).limit(1)).first()


def queue_card_update(session: Session, ticket: Ticket) -> bool:
    """Queue a ``chat.update`` of the ticket's card when it shows less than the ticket's history holds.

    Keyed by the newest event, so every replica, the periodic sync and the actions
    queue one update per change at most. False when there is no card or it is current.
    """
    session.flush()
    row = session.get(SlackTicketThread, ticket.id)
    if row is None or not row.card_ts or not row.card_channel:
        return False
    newest = session.scalar(select(func.max(TicketEvent.id)).where(TicketEvent.ticket_id == ticket.id)) or 0
    if newest <= row.shown_event_id:
        return False
    queued = enqueue(session, user_key=f"slack:{row.card_channel}",
                     reply=Reply(text=f"{ticket.key} changed", intent=CARD_UPDATE, ticket_key=ticket.key),
                     dedupe_key=f"slack-card:{ticket.id}:{newest}")
    return queued is not None


def queue_card_thread(session: Session, ticket: Ticket, text: str, *, dedupe_key: str) -> bool:
    """Queue a post in the ticket's card thread (False when the ticket has no card)."""
    row = session.get(SlackTicketThread, ticket.id)
    if row is None or not row.card_ts or not row.card_channel:
        return False
    return enqueue(session, user_key=f"slack:{row.card_channel}", dedupe_key=dedupe_key,
                   reply=Reply(text=text, intent=CARD_THREAD, ticket_key=ticket.key)) is not None


class TriageSender:
    """The ``slack`` notification sender: the triage surface's posts, everything else to :class:`Delivery`."""

    def __init__(self, client: WebClient, db: Database, delivery: Delivery, *, cards: bool) -> None:
        self.client = client
        self.db = db
        self.delivery = delivery
        self.cards = cards

    def send(self, user_key: str, reply: Reply) -> None:
        """Deliver one queued notification (raises to have the outbox retry it)."""
        target = user_key.split(":", 1)[1] if ":" in user_key else user_key
        key = reply.ticket_key
        if key and reply.intent == TRIAGE_CARD_INTENT and self.cards and not is_user_id(target):
            if self._card(key, post_to=target):
                return
        elif key and reply.intent == CARD_UPDATE:
            self._card(key, post_to=None)
            return
        elif key and reply.intent == CARD_THREAD:
            self._in_card_thread(key, reply)
            return
        elif key and reply.intent == IT_REPLY_INTENT and is_user_id(target):
            if self._to_dm_thread(key, target, reply):
                return
        self.delivery.send_notification(user_key, reply)

    # --- the card -------------------------------------------------------------------
    def _render(self, session: Session, ticket: Ticket) -> tuple[str, list[dict[str, Any]], int]:
        event = newest_event(session, ticket.id)
        activity = Activity(event.kind, event.actor, event.created_at) if event is not None else None
        text, blocks = render_card(ticket, activity)
        return text, blocks, event.id if event is not None else 0

    def _card(self, key: str, *, post_to: str | None) -> bool:
        """Post the card (``post_to``) or update it in place; False when there is no such ticket."""
        with self.db.session() as session:
            ticket = find_ticket(session, key)
            if ticket is None:
                return False
            row = session.get(SlackTicketThread, ticket.id)
            text, blocks, newest = self._render(session, ticket)
            ticket_id = ticket.id
            where = (row.card_channel, row.card_ts) if row is not None and row.card_channel and row.card_ts \
                else None
        if where is None and post_to is None:
            return True  # no card to update (cards off when the ticket came, or it is still being posted)
        if post_to is None and row is not None and (row.shown_event_id or 0) >= newest:
            return True  # an earlier update already drew all of it (a notice and an action queued one each)
        if where is not None:
            try:
                self.client.chat_update(channel=where[0], ts=where[1], text=text, blocks=blocks)
            except SlackApiError as exc:
                if exc.response.get("error") not in GONE:
                    raise
                log.warning("the triage card of %s is gone (%s); not updated", key, exc.response.get("error"))
                return True
            channel, ts = where
        else:
            answer = self.client.chat_postMessage(channel=str(post_to), text=text, blocks=blocks)
            channel, ts = str(answer.get("channel") or post_to), str(answer.get("ts"))
        with self.db.session() as session:
            row = thread_row(session, ticket_id)
            row.card_channel, row.card_ts = channel, ts
            row.shown_event_id = max(row.shown_event_id or 0, newest)
            row.updated_at = utcnow()
        return True

    def _in_card_thread(self, key: str, reply: Reply) -> None:
        with self.db.session() as session:
            ticket = find_ticket(session, key)
            row = session.get(SlackTicketThread, ticket.id) if ticket is not None else None
            where = (row.card_channel, row.card_ts) if row is not None and row.card_channel and row.card_ts \
                else None
        if where is None:
            return  # the card is not there: nothing to thread under
        text, blocks = render_reply(Reply(text=reply.text))
        self.client.chat_postMessage(channel=str(where[0]), thread_ts=str(where[1]), text=text, blocks=blocks)

    # --- the employee's DM thread ------------------------------------------------------
    def _to_dm_thread(self, key: str, user_id: str, reply: Reply) -> bool:
        """IT's reply in the ticket's DM thread (the first one starts it); False: not a ticket we know."""
        with self.db.session() as session:
            ticket = find_ticket(session, key)
            if ticket is None:
                return False
            row = session.get(SlackTicketThread, ticket.id)
            thread_ts = row.dm_ts if row is not None else None
            ticket_id = ticket.id
        channel = self.delivery.dm_channel(user_id)
        text, blocks = render_reply(reply)
        blocks = [context(FROM_IT_NOTE), *blocks][:MAX_BLOCKS_MESSAGE]
        args: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks}
        if thread_ts:  # in the thread, and shown in the DM too so it is not missed
            args.update(thread_ts=thread_ts, reply_broadcast=True)
        answer = self.client.chat_postMessage(**args)
        if not thread_ts:
            with self.db.session() as session:
                row = thread_row(session, ticket_id)
                if not row.dm_ts:
                    row.dm_channel, row.dm_ts = str(answer.get("channel") or channel), str(answer.get("ts"))
                    row.updated_at = utcnow()
        return True
