"""Answering Events API jobs: @mentions (in the thread), direct messages, App Home opened.

The jobs come from :mod:`.jobs`; each was recorded once in the inbox
(:mod:`.dedupe`) before the ack, even when Slack redelivers it or several
replicas receive it.
"""

from __future__ import annotations

from bot.channels.slack import privacy
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.home import HomeTab
from bot.channels.slack.jobs import Job
from bot.channels.slack.payloads import is_public
from bot.channels.slack.turns import Turns


class EventListeners:
    """``app_mention``, ``message`` (DMs only) and ``app_home_opened`` jobs."""

    def __init__(self, turns: Turns, delivery: Delivery, home: HomeTab) -> None:
        self.turns = turns
        self.delivery = delivery
        self.home = home

    def on_mention(self, job: Job) -> None:
        """@helpdesk in a channel: answer in the thread (never top-level)."""
        user, channel, thread_ts = str(job["user"]), str(job["channel"]), job.get("thread_ts")
        reply = self.turns.run(user_id=user, text=str(job.get("text") or ""), channel_id=channel,
                               thread_ts=thread_ts, private=privacy.private_conversation(channel),
                               event_id=job.get("event_id"))
        self.delivery.reply_in_place(reply, user_id=user, channel=channel, thread_ts=thread_ts,
                                     public=is_public(channel),
                                     force_ephemeral=privacy.only_for_the_asker(reply, channel))

    def on_message(self, job: Job) -> None:
        """A direct message (channel messages arrive as app_mention)."""
        user, channel, thread_ts = str(job["user"]), str(job["channel"]), job.get("thread_ts")
        reply = self.turns.run(user_id=user, text=str(job.get("text") or ""), channel_id=channel,
                               thread_ts=thread_ts, private=True, event_id=job.get("event_id"))
        self.delivery.reply_in_place(reply, user_id=user, channel=channel, thread_ts=thread_ts, public=False)

    def on_home_opened(self, job: Job) -> None:
        """The employee opened the Home tab: publish it with their open tickets."""
        self.home.publish(str(job["user"]))
