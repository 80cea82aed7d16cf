"""The answers to "Did this fix it?" in Slack: *Yes* records it, *Reopen* asks for the employee's words.

*Yes* (``followup.fixed``) is recorded at once. *Reopen* (``followup.reopen``) opens a modal asking
what is still wrong; its submission reopens the ticket with those words as the requester's comment
(local queue now; Jira: the comment and then the issue's reopen transition, through the outbox).
The rules — only the requester, only a resolved ticket, once per resolution — are the ticketing
library's (:mod:`integrations.ticketing.followups`); a refusal is shown in the modal, on the field.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.channels.slack.blocks import MAX_BLOCKS_MESSAGE, decode_value, plain
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.identity import UserResolver
from bot.channels.slack.jobs import Job, obj, text_of
from bot.errors import HelpdeskError
from bot.messages import Outcome, Reply
from bot.notices.followups import FIXED_ACTION, REOPEN_ACTION
from bot.redact import redact
from bot.storage.session import Database
from integrations.ticketing import followups
from integrations.ticketing.notices import TicketNoticeSink
from integrations.ticketing.settings import TicketingSettings

log = logging.getLogger(__name__)
REOPEN_CALLBACK = "helpdesk.followup_reopen"
WORDS_BLOCK = "words"
Binder = Callable[[str], AbstractContextManager[object]]  # user id → the installation's token bound


def _is_followup(element: Any) -> bool:
    action = decode_value(element.get("value")) if isinstance(element, dict) else None
    return action is not None and action.action_id in (FIXED_ACTION, REOPEN_ACTION)


def reopen_modal(key: str) -> dict[str, Any]:
    """The modal asking what is still wrong (the key travels in private_metadata and is checked again)."""
    return {
        "type": "modal",
        "callback_id": REOPEN_CALLBACK,
        "title": plain(f"Reopen {key}", 24),
        "submit": plain("Reopen", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"key": key}),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"IT resolved *{key}*. Tell them what is "
                                                                   "still wrong; your words go on the ticket."}},
            {"type": "input", "block_id": WORDS_BLOCK, "label": plain("What is still wrong?", 2000),
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True,
                         "max_length": followups.WORDS_MAX,
                         "placeholder": plain("e.g. The VPN still drops every few minutes.", 150)}},
        ],
    }


class FollowUps:
    """Handles the two follow-up buttons and the reopen modal's submission."""

    def __init__(self, client: WebClient, delivery: Delivery, db: Database, users: UserResolver, *,
                 settings: TicketingSettings, sink: TicketNoticeSink, secrets: Iterable[str] = (),
                 bind: Binder | None = None) -> None:
        self.client = client
        self.delivery = delivery
        self.db = db
        self.users = users
        self.settings = settings
        self.sink = sink
        self.secrets = tuple(secrets)
        self.bind: Binder = bind or (lambda _user: nullcontext())

    @staticmethod
    def handles(job: Job) -> bool:
        """Whether ``job`` is a click on one of the follow-up buttons."""
        return job.get("kind") == "action" and job.get("action_id") in (FIXED_ACTION, REOPEN_ACTION)

    # --- the buttons -------------------------------------------------------------
    def on_action(self, job: Job, *, live: bool = True) -> None:
        """*Yes*: record it and thank the employee. *Reopen*: open the modal (or say why not)."""
        user, key = str(job.get("user") or ""), str(obj(job.get("value")).get("key") or "")
        try:
            if job.get("action_id") == FIXED_ACTION:
                with self.db.session() as session:
                    ticket, new = followups.confirm_fixed(session, key, user_key=f"slack:{user}")
                    name = ticket.key
                text = (f"Great — glad {name} is fixed. Thanks for telling IT!" if new
                        else f"You already told IT that {name} is fixed. Thanks!")
                self._tell(user, text, Outcome.FEEDBACK)
                self._retire_buttons(job, "✅ You told IT it's fixed.")
                return
            with self.db.session() as session:  # refuse before asking: not theirs, or not resolved
                followups.resolved_ticket_of(session, key, f"slack:{user}")
            self.users.resolve(user)  # cached now: the submission must be acknowledged within 3 s
            trigger = text_of(job.get("trigger_id"))
            if not (live and trigger and self._open(trigger, key.strip().upper())):
                self._tell(user, f"I couldn't open the form in time. Press *Reopen* on {key} again, please.",
                           Outcome.ERROR)
        except HelpdeskError as exc:
            self._tell(user, exc.user_message, Outcome.ERROR)

    def _retire_buttons(self, job: Job, note: str) -> None:
        """In the resolution message, replace *Yes* / *Reopen* by what the employee answered (ratings stay)."""
        channel, ts, old = text_of(job.get("channel")), text_of(job.get("message_ts")), job.get("message_blocks")
        if not channel or not ts or not isinstance(old, list) or not old:
            return
        blocks: list[dict[str, Any]] = []
        for block in old:
            if block.get("type") == "actions":
                kept = [e for e in block.get("elements", []) if not _is_followup(e)]
                if not kept:
                    continue
                block = {**block, "elements": kept}
            blocks.append(block)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": note}]})
        try:
            self.client.chat_update(channel=channel, ts=ts, text=text_of(job.get("message_text")) or note,
                                    blocks=blocks[:MAX_BLOCKS_MESSAGE])
        except SlackApiError as exc:  # cosmetic: the answer itself is stored
            log.info("could not update the resolution message: %s", exc.response.get("error"))

    def _open(self, trigger_id: str, key: str) -> bool:
        try:
            self.client.views_open(trigger_id=trigger_id, view=reopen_modal(key))
        except SlackApiError as exc:
            log.warning("views.open (reopen) failed: %s", exc.response.get("error"))
            return False
        return True

    def _tell(self, user: str, text: str, outcome: Outcome) -> None:
        self.delivery.to_user_or_park(Reply(text=text, outcome=outcome, private=True), user)

    # --- the modal ---------------------------------------------------------------
    def on_submit(self, ack: Ack, body: dict[str, Any]) -> None:
        """The reopen modal: refusals show on the field; otherwise reopened, Jira moved, employee told."""
        user = text_of(obj(body.get("user")).get("id")) or ""
        view = obj(body.get("view"))
        with self.bind(user):
            self._submitted(ack, user, view)

    def _submitted(self, ack: Ack, user: str, view: dict[str, Any]) -> None:
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except (TypeError, ValueError):
            meta = {}
        key = str(obj(meta).get("key") or "")
        element = obj(obj(obj(obj(view.get("state")).get("values")).get(WORDS_BLOCK)).get("value"))
        words = redact(str(element.get("value") or ""), self.secrets).strip()[:followups.WORDS_MAX]
        who = self.users.resolve(user)
        try:
            with self.db.session() as session:
                reopened = followups.reopen_by_requester(
                    session, key, user_key=f"slack:{user}", author=who.display_name or who.email or user,
                    words=words, settings=self.settings, sink=self.sink)
        except HelpdeskError as exc:
            ack(response_action="errors", errors={WORDS_BLOCK: exc.user_message[:150]})
            return
        ack()
        text = (f"I've added what you wrote to {reopened.key} and asked IT to reopen it; you'll hear from "
                "them here." if reopened.queued else
                f"I've reopened {reopened.key} (“{reopened.summary}”) and added what you wrote. "
                "IT will pick it up again.")
        self._tell(user, text, Outcome.ESCALATED)
