"""Events API listeners: @mentions (answered in the thread), direct messages, App Home opened.

Each event runs once (:class:`~bot.channels.slack.dedupe.EventLedger`), even when
Slack redelivers it or several replicas receive it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import BoltContext

from bot.channels.slack import privacy
from bot.channels.slack.dedupe import EventLedger
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.home import HomeTab
from bot.channels.slack.payloads import Payload, clean_text, is_answerable, is_public
from bot.channels.slack.turns import Turns

log = logging.getLogger(__name__)


class EventListeners:
    """``app_mention``, ``message`` (DMs only) and ``app_home_opened``."""

    def __init__(self, turns: Turns, delivery: Delivery, ledger: EventLedger, home: HomeTab) -> None:
        self.turns = turns
        self.delivery = delivery
        self.ledger = ledger
        self.home = home

    def once(self, body: Payload, work: Callable[[], None]) -> None:
        """Run ``work`` for an Events API delivery unless its event_id was already processed."""
        event_id = body.get("event_id")
        if event_id and not self.ledger.claim(str(event_id)):
            return
        try:
            work()
        except Exception:
            log.exception("Slack event %s failed", event_id)
            if event_id:
                self.ledger.release(str(event_id))  # a retry from Slack may succeed

    def on_mention(self, body: Payload, event: Payload, context: BoltContext) -> None:
        """@helpdesk in a channel: answer in the thread (never top-level)."""
        if not is_answerable(event):
            return

        def work() -> None:
            channel = str(event.get("channel"))
            thread_ts = str(event.get("thread_ts") or event.get("ts"))
            text = clean_text(str(event.get("text") or ""), context.bot_user_id)
            reply = self.turns.run(user_id=event["user"], text=text, channel_id=channel, thread_ts=thread_ts,
                                   private=privacy.private_conversation(channel), event_id=body.get("event_id"))
            self.delivery.reply_in_place(reply, user_id=event["user"], channel=channel, thread_ts=thread_ts,
                                         public=is_public(channel),
                                         force_ephemeral=privacy.only_for_the_asker(reply, channel))

        self.once(body, work)

    def on_message(self, body: Payload, event: Payload, context: BoltContext) -> None:
        """A direct message. Channel messages arrive as app_mention; bots, edits and deletions are ignored."""
        if event.get("channel_type") != "im" or not is_answerable(event, context.bot_user_id):
            return

        def work() -> None:
            channel = str(event.get("channel"))
            thread_ts = event.get("thread_ts")
            text = clean_text(str(event.get("text") or ""), context.bot_user_id)
            reply = self.turns.run(user_id=event["user"], text=text, channel_id=channel, thread_ts=thread_ts,
                                   private=True, event_id=body.get("event_id"))
            self.delivery.reply_in_place(reply, user_id=event["user"], channel=channel, thread_ts=thread_ts,
                                         public=False)

        self.once(body, work)

    def on_home_opened(self, body: Payload, event: Payload) -> None:
        """The employee opened the Home tab: publish it with their open tickets."""
        if event.get("tab", "home") != "home" or not event.get("user"):
            return

        def work() -> None:
            self.home.publish(str(event["user"]))

        self.once(body, work)
