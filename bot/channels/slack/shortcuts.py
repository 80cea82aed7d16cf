"""Message shortcuts: "Ask IT about this message" and "Create an IT ticket from this message".

- *Ask IT* runs an engine turn on the message's text and answers the one who
  asked, privately: ephemeral where they are, else through the payload's
  ``response_url``, else their DM (:meth:`Delivery.reply_in_place`, forced
  ephemeral). Nothing is posted in the channel.
- *Create a ticket* opens the existing ticket modal (:func:`.modals.ticket_modal`)
  prefilled from the message, under its own callback id. On submit, the link to
  the message (``chat.getPermalink``, asked of Slack then, not taken from the
  form) is added to the ticket's details, and the engine's ``ticket.submit``
  opens exactly one ticket (the submission is recorded once, like every job).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.channels.slack.blocks import escape, truncate
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.jobs import Job, digest, obj, safe_text, text_of, ticket_submission
from bot.channels.slack.modals import PRIVATE_METADATA, SUMMARY_MAX, ticket_modal
from bot.channels.slack.payloads import clean_text, is_public
from bot.channels.slack.turns import Turns
from bot.messages import Action, Reply
from integrations.ticketing.service import stable_idem_key

log = logging.getLogger(__name__)

ASK_CALLBACK = "helpdesk.ask_about_message"
TICKET_CALLBACK = "helpdesk.ticket_from_message"
MODAL_CALLBACK = "helpdesk.ticket_from_message.form"
LINK_LINE = "Slack message: {link}"
FROM_LINE = "From a message by <@{author}>: _{quote}_"
NO_TEXT = "That message has no text I can read, so there is nothing to ask IT about."
FORM_GONE = "Sorry, the ticket form could not be opened in time. Please use the shortcut on the message again."
QUOTE_MAX = 300


def shortcut_job(body: dict[str, Any]) -> Job | None:
    """The job of one of our ``message_action`` shortcuts (else None)."""
    callback = body.get("callback_id")
    user = text_of(obj(body.get("user")).get("id"))
    channel = text_of(obj(body.get("channel")).get("id"))
    message = obj(body.get("message"))
    ts = text_of(message.get("ts")) or text_of(body.get("message_ts"))
    if body.get("type") != "message_action" or callback not in (ASK_CALLBACK, TICKET_CALLBACK) \
            or user is None or channel is None or ts is None:
        return None
    trigger = text_of(body.get("trigger_id"))
    return {"kind": "shortcut", "key": "sc:" + digest(user, callback, trigger, channel, ts), "user": user,
            "channel": channel, "callback": callback, "message_ts": ts,
            "thread_ts": text_of(message.get("thread_ts")), "author": text_of(message.get("user")),
            "text": safe_text(clean_text(safe_text(text_of(message.get("text")) or ""))),
            "trigger_id": trigger, "response_url": text_of(body.get("response_url"))}


def form_job(body: dict[str, Any]) -> Job | None:
    """The job of the shortcut's ticket modal being submitted (else None)."""
    found = ticket_submission(body, MODAL_CALLBACK, "msg_ticket")
    if found is None:
        return None
    job, meta = found
    return {**job, "channel": text_of(meta.get("channel")), "message_ts": text_of(meta.get("message_ts"))}


def message_modal(job: Job) -> dict[str, Any]:
    """The ticket modal prefilled from the message (summary: its first line; details: all of it)."""
    text = str(job.get("text") or "")
    first = text.split("\n", 1)[0]
    view = ticket_modal({"summary": truncate(first, SUMMARY_MAX), "details": text}, channel=job.get("channel"))
    view["callback_id"] = MODAL_CALLBACK
    meta = {"submit": "ticket.submit", "channel": job.get("channel"), "message_ts": job.get("message_ts")}
    view["private_metadata"] = json.dumps(meta, separators=(",", ":"))[:PRIVATE_METADATA]
    if job.get("author") and text:
        quote = escape(truncate(" ".join(text.split()), QUOTE_MAX))
        view["blocks"].insert(0, {"type": "context", "elements": [
            {"type": "mrkdwn", "text": FROM_LINE.format(author=job["author"], quote=quote)}]})
    return view


class MessageShortcuts:
    """The two shortcuts' jobs."""

    def __init__(self, client: WebClient, turns: Turns, delivery: Delivery) -> None:
        self.client = client
        self.turns = turns
        self.delivery = delivery

    def on_shortcut(self, job: Job, live: bool) -> None:
        """Ask IT (a private answer), or the ticket form (live only: its trigger expires in 3 s)."""
        if job.get("callback") == ASK_CALLBACK:
            self.ask(job)
        elif not (live and self.open_form(job)):
            self.delivery.notice(FORM_GONE, user_id=str(job["user"]), channel=None)

    def ask(self, job: Job) -> None:
        """The engine's answer about the message's text, for the asker's eyes only."""
        user, channel, text = str(job["user"]), str(job["channel"]), str(job.get("text") or "")
        if not text.strip():
            reply = Reply(text=NO_TEXT, private=True)
        else:
            reply = self.turns.run(user_id=user, text=text, channel_id=channel, thread_ts=None, private=True)
        self.delivery.reply_in_place(reply, user_id=user, channel=channel, thread_ts=job.get("thread_ts"),
                                     public=is_public(channel), response_url=job.get("response_url"),
                                     force_ephemeral=True)

    def open_form(self, job: Job) -> bool:
        """``views.open`` the prefilled ticket modal; False when Slack would not open it."""
        if not job.get("trigger_id"):
            return False
        try:
            self.client.views_open(trigger_id=job["trigger_id"], view=message_modal(job))
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            return False
        return True

    def on_form(self, job: Job) -> None:
        """The modal was submitted: the ticket, with the message's link, and its confirmation in the DM."""
        user = str(job["user"])
        fields = dict(job.get("fields") or {})
        link = permalink(self.client, job.get("channel"), job.get("message_ts"))
        if link:
            fields["details"] = "\n\n".join(p for p in (str(fields.get("details") or "").strip(),
                                                        LINK_LINE.format(link=link)) if p)
        fields["idem"] = stable_idem_key("slack-shortcut", str(job["key"]))  # a re-run finds its ticket
        reply = self.turns.run(user_id=user, text="", channel_id=None, thread_ts=None, private=True,
                               action=Action(str(job.get("action_id") or "ticket.submit"), fields))
        self.delivery.privately(reply, user)


def permalink(client: WebClient, channel: Any, message_ts: Any) -> str | None:
    """The message's permalink from Slack (None when Slack will not give one)."""
    if not isinstance(channel, str) or not isinstance(message_ts, str) or not channel or not message_ts:
        return None
    try:
        link = client.chat_getPermalink(channel=channel, message_ts=message_ts).get("permalink")
    except SlackApiError as exc:
        log.info("no permalink for the message: %s", exc.response.get("error"))
        return None
    return link if isinstance(link, str) and link.startswith("https://") else None
