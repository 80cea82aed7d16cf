"""The ticket emoji: reacting with it on a message offers the message's AUTHOR a ticket, privately.

``reaction_added`` (Slack sends it only for channels the bot is in) with the
configured emoji (``slack.ticket_emoji``, default ``ticket``) on a person's
message → one offer per message (:class:`~.assistant_models.SlackTicketOffer`,
unique on channel + message ts: a second reaction or a replay offers nothing new)
→ a DM to the author, "Open a ticket about this message?" with *Yes* / *No*.
Only the author's *Yes* opens the ticket, exactly once: the offer moves
``offered`` → ``opening`` with a guarded update naming the click that took it,
so a second click, a replay or another replica finds it taken; the click's own
re-run after a crash continues it with the same idempotency key
(:func:`~integrations.ticketing.service.stable_idem_key` of the offer and the
click), so it finds the ticket it opened instead of opening another.
Nothing is posted in the channel.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError

from bot.channels.slack.assistant_models import SlackTicketOffer
from bot.channels.slack.blocks import escape, plain, truncate
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.jobs import Job, digest, obj, safe_text, text_of
from bot.channels.slack.payloads import clean_text
from bot.channels.slack.shortcuts import LINK_LINE, permalink
from bot.channels.slack.turns import Turns
from bot.messages import Action
from bot.redact import redact
from bot.storage.base import utcnow
from bot.storage.session import Database
from integrations.ticketing.service import stable_idem_key

log = logging.getLogger(__name__)

YES, NO = "helpdesk.offer.yes", "helpdesk.offer.no"
OFFERED, OPENING, OPENED, DECLINED = "offered", "opening", "opened", "declined"
ASK = "<@{reactor}> reacted with :{emoji}: to your message in <#{channel}>. *Open a ticket about this message?*"
ASK_FALLBACK = "Open an IT ticket about your message?"
YES_LABEL, NO_LABEL = "Yes, open a ticket", "No"
DECLINED_TEXT = "OK, no ticket about this message."
OPENING_TEXT = "Opening a ticket about this message…"
NOT_YOURS = "Only the person who wrote the message can open a ticket from it."
TAKEN = "A ticket about this message was already requested."
GONE = "That offer has expired."
SUMMARY_MAX = 120
QUOTE_MAX = 500


def reaction_job(body: dict[str, Any], emoji: str, bot_user_id: str | None) -> Job | None:
    """The job of a ticket-emoji reaction on a person's message (else None)."""
    event = obj(body.get("event"))
    item = obj(event.get("item"))
    event_id, reactor, author = text_of(body.get("event_id")), text_of(event.get("user")), \
        text_of(event.get("item_user"))
    channel, ts = text_of(item.get("channel")), text_of(item.get("ts"))
    if event.get("type") != "reaction_added" or event.get("reaction") != emoji or item.get("type") != "message":
        return None
    if None in (event_id, reactor, author, channel, ts) or author == bot_user_id:
        return None
    return {"kind": "reaction", "key": event_id, "user": reactor, "author": author, "channel": channel,
            "message_ts": ts}


def offer_click_job(body: dict[str, Any]) -> Job | None:
    """The job of a *Yes* / *No* click on an offer (else None)."""
    actions = body.get("actions")
    first = obj(actions[0]) if isinstance(actions, list) and actions else {}
    user = text_of(obj(body.get("user")).get("id"))
    value = text_of(first.get("value"))
    if body.get("type") != "block_actions" or first.get("action_id") not in (YES, NO) or user is None \
            or value is None or not (value.isascii() and value.isdigit()) or len(value) > 9:
        return None
    container, message = obj(body.get("container")), obj(body.get("message"))
    key = "ia:" + digest(user, first.get("action_ts"), first.get("action_id"), value, container.get("message_ts"))
    return {"kind": "offer", "key": key, "user": user, "offer": int(value), "yes": first.get("action_id") == YES,
            "channel": text_of(container.get("channel_id")), "message_ts": text_of(message.get("ts"))
            or text_of(container.get("message_ts"))}


class TicketEmoji:
    """Offers (reaction jobs) and the author's answer (click jobs)."""

    def __init__(self, client: WebClient, db: Database, turns: Turns, delivery: Delivery, *, emoji: str,
                 secrets: tuple[str, ...] = ()) -> None:
        self.client = client
        self.db = db
        self.turns = turns
        self.delivery = delivery
        self.emoji = emoji
        self.secrets = secrets

    # --- the reaction ----------------------------------------------------------------------
    def on_reaction(self, job: Job) -> None:
        """One offer per message, sent to its author's DM."""
        channel, ts, author, reactor = (str(job[k]) for k in ("channel", "message_ts", "author", "user"))
        if self.turns.users.resolve(author).is_bot:
            return  # another app's message: nobody to ask
        offer_id = self._new_offer(channel, ts, author=author, reactor=reactor)
        if offer_id is None:
            return  # offered already (a second reaction, a replay)
        text = self._message_text(channel, ts)
        link = permalink(self.client, channel, ts)
        with self.db.session() as session:
            row = session.get(SlackTicketOffer, offer_id)
            if row is not None:
                row.text, row.permalink = redact(text, self.secrets), link
        lines = [ASK.format(reactor=reactor, emoji=self.emoji, channel=channel)]
        if text:
            lines.append("> " + escape(truncate(" ".join(text.split()), QUOTE_MAX)))
        if link:
            lines.append(f"<{link}|View the message>")
        blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
                  {"type": "actions", "block_id": "hd_offer", "elements": [
                      {"type": "button", "action_id": YES, "text": plain(YES_LABEL, 75), "value": str(offer_id),
                       "style": "primary"},
                      {"type": "button", "action_id": NO, "text": plain(NO_LABEL, 75), "value": str(offer_id)}]}]
        self.client.chat_postMessage(channel=self.delivery.dm_channel(author), text=ASK_FALLBACK, blocks=blocks)

    def _new_offer(self, channel: str, ts: str, *, author: str, reactor: str) -> int | None:
        try:
            with self.db.session() as session:
                row = SlackTicketOffer(channel_id=channel[:32], message_ts=ts[:32], author=author[:32],
                                       reactor=reactor[:32], text="", state=OFFERED)
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            return None

    def _message_text(self, channel: str, ts: str) -> str:
        """The reacted-to message's text (conversations.replies finds it in or out of a thread)."""
        try:
            found = self.client.conversations_replies(channel=channel, ts=ts, oldest=ts, latest=ts, inclusive=True,
                                                      limit=2)  # just that message (and a thread's parent)
        except SlackApiError as exc:
            log.info("could not read the reacted-to message: %s", exc.response.get("error"))
            return ""
        messages = found.get("messages")
        for message in messages if isinstance(messages, list) else []:
            if isinstance(message, dict) and message.get("ts") == ts:
                return safe_text(clean_text(safe_text(text_of(message.get("text")) or "")))
        return ""

    # --- the author's answer ---------------------------------------------------------------
    def on_click(self, job: Job) -> None:
        """*Yes* from the author opens the ticket once; *No* closes the offer; anyone else is refused."""
        user, offer_id = str(job["user"]), int(job["offer"])
        with self.db.session() as session:
            row = session.get(SlackTicketOffer, offer_id)
            offer = None if row is None else {"author": row.author, "state": row.state, "claimed_by": row.claimed_by,
                                              "text": row.text, "permalink": row.permalink}
        if offer is None:
            self._tell(job, GONE)
            return
        if offer["author"] != user:
            self._tell(job, NOT_YOURS)
            return
        if not job.get("yes"):
            if self._move(offer_id, OFFERED, DECLINED, user=user):
                self._settle(job, DECLINED_TEXT)
            return
        key = str(job["key"])
        if not (self._move(offer_id, OFFERED, OPENING, user=user, claimed_by=key) or offer["claimed_by"] == key):
            self._tell(job, TAKEN)
            return
        self._settle(job, OPENING_TEXT)
        # the offer's own idempotency key: a re-run of this click after a crash finds the ticket it opened
        fields = {**ticket_fields(offer["text"] or "", offer["permalink"]),
                  "idem": stable_idem_key("slack-offer", str(offer_id), key)}
        reply = self.turns.run(user_id=user, text="", channel_id=None, thread_ts=None, private=True,
                               action=Action("ticket.submit", fields))
        self._move(offer_id, OPENING, OPENED, user=user, ticket_key=reply.ticket_key)
        self.delivery.privately(reply, user)

    def _move(self, offer_id: int, old: str, new: str, *, user: str, **values: Any) -> bool:
        with self.db.session() as session:
            done = session.execute(update(SlackTicketOffer)
                                   .where(SlackTicketOffer.id == offer_id, SlackTicketOffer.state == old,
                                          SlackTicketOffer.author == user)
                                   .values(state=new, updated_at=utcnow(), **values))
        return isinstance(done, CursorResult) and done.rowcount == 1

    def _settle(self, job: Job, text: str) -> None:
        """The offer message loses its buttons (best effort: the state is in the database)."""
        channel, ts = job.get("channel"), job.get("message_ts")
        if not channel or not ts:
            return
        try:
            self.client.chat_update(channel=channel, ts=ts, text=text,
                                    blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}])
        except SlackApiError as exc:
            log.info("could not update the offer: %s", exc.response.get("error"))

    def _tell(self, job: Job, text: str) -> None:
        """A word to the one who clicked, in their own DM (never where the offer was)."""
        self.delivery.notice(text, user_id=str(job["user"]), channel=None)


def ticket_fields(text: str, link: str | None) -> dict[str, Any]:
    """The engine's ``ticket.submit`` value for a message: its first line, all of it and its link."""
    first = " ".join(text.split("\n", 1)[0].split())
    summary = truncate(first, SUMMARY_MAX) if first else "A Slack message flagged for IT"
    details = "\n\n".join(p for p in (text.strip(), LINK_LINE.format(link=link) if link else "") if p)
    return {"summary": summary, "details": details or summary, "urgency": "normal"}

