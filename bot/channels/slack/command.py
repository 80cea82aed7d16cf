"""``/helpdesk <question>``: the answer only the asker sees, with "Share in channel" where it may be shared."""

from __future__ import annotations

from bot.channels.slack import privacy, texts
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.jobs import Job
from bot.channels.slack.sharing import SharedReplies
from bot.channels.slack.turns import Turns
from bot.messages import Button


class SlashCommand:
    """Runs the question as a private turn and answers ephemerally (``response_url`` as fallback)."""

    def __init__(self, turns: Turns, delivery: Delivery, shared: SharedReplies) -> None:
        self.turns = turns
        self.delivery = delivery
        self.shared = shared

    def on_command(self, job: Job) -> None:
        """``/helpdesk <question>`` (a bare ``/helpdesk`` asks what the bot can do)."""
        user_id, channel = str(job["user"]), str(job["channel"])
        question = str(job.get("text") or "") or texts.BARE_COMMAND_QUESTION
        reply = self.turns.run(user_id=user_id, text=question, channel_id=channel, thread_ts=None, private=True)
        extra: list[Button] = []
        if privacy.shareable(reply, channel):
            extra.append(self.shared.keep(reply, user_id=user_id))
        self.delivery.reply_in_place(reply, user_id=user_id, channel=channel, thread_ts=None, public=True,
                                     response_url=job.get("response_url"), force_ephemeral=True,
                                     extra_buttons=extra)
