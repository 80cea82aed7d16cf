"""The Slack channel: a bolt App whose listeners turn Slack payloads into Messages and Replies into Block Kit.

Surfaces: DMs (message.im), @mentions (app_mention, answered in the thread),
``/helpdesk`` (ephemeral, with "Share in channel"), buttons (block_actions),
the ticket modal (views.open / view_submission) and App Home (views.publish).
Every listener acks at once; the slow part (encoder, LDAP, Jira) runs in a
bolt *lazy* listener on :class:`TrackingExecutor` after the ack. The same App
serves HTTP (``/slack/events``) and Socket Mode.
"""

from __future__ import annotations

import functools
import html
import logging
import re
from typing import Any, Callable

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.channels.slack.blocks import ACTION_PREFIX, FORM_ACTION, SHARE_ACTION, decode_value
from bot.channels.slack.client import build_client
from bot.channels.slack.dedupe import EventLedger
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.executor import PerKeyQueue, TrackingExecutor
from bot.channels.slack.home import home_view, open_tickets
from bot.channels.slack.identity import UserResolver
from bot.channels.slack.modals import TICKET_CALLBACK, read_submission, ticket_modal
from bot.channels.slack.models import SlackSharedReply
from bot.engine import Engine
from bot.errors import ConfigError
from bot.messages import Action, Button, Message, Outcome, Reply
from bot.services import Services

log = logging.getLogger(__name__)

MODAL_ACTIONS = {"ticket.open", FORM_ACTION}
# Shown only to the employee when asked in a public channel, whatever the flow set.
PERSONAL_INTENTS = {"password_reset", "account_unlock", "ticket_status", "my_tickets"}
PERSONAL_OUTCOMES = {Outcome.ACCOUNT_ACTION, Outcome.FEEDBACK}
ANSWERED_SUBTYPES = {None, "file_share", "thread_broadcast"}  # anything else: edits, deletions, joins, bots
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_CHANNEL_REF = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")


def clean_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack message markup → what the employee typed: no bot mention, links and entities decoded."""
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")
    text = _MENTION.sub(lambda m: "", text, count=1) if text.lstrip().startswith("<@") else text
    text = _SLACK_LINK.sub(lambda m: (m.group(2) or m.group(1)).removeprefix("mailto:"), text)
    text = _CHANNEL_REF.sub(lambda m: "#" + m.group(1), text)
    return " ".join(html.unescape(text).split())


def is_personal(reply: Reply) -> bool:
    """Account actions, ticket details and feedback acknowledgements never go to a public channel."""
    return reply.private or reply.outcome in PERSONAL_OUTCOMES or reply.intent in PERSONAL_INTENTS


def is_public(channel_id: str | None) -> bool:
    """Channels (C…) and private channels (G…) are seen by others; DMs (D…) are not."""
    return bool(channel_id) and not str(channel_id).startswith("D")


class SlackAdapter:
    """Owns the bolt App, the Web API client, identity cache, event ledger and delivery."""

    def __init__(self, services: Services, *, client: WebClient | None = None,
                 executor: TrackingExecutor | None = None) -> None:
        settings = services.settings.slack
        if not settings.configured:
            raise ConfigError("The Slack channel needs slack.bot_token (HELPDESK_SLACK__BOT_TOKEN=xoxb-…).")
        self.services = services
        self.settings = settings
        self.client = client or build_client(settings)
        # Two pools: bolt's (acks + lazy hand-offs: always quick, so an ack never queues behind
        # a slow turn) and ``work`` (the turns themselves: encoder, LDAP, Jira).
        self.executor = executor or TrackingExecutor(max(4, settings.listener_threads))
        self.work = TrackingExecutor(settings.listener_threads)
        self.per_user = PerKeyQueue(self.work)
        self.engine = Engine(services)
        self.users = UserResolver(self.client, settings.user_cache_seconds)
        self.ledger = EventLedger(services.db, settings.event_retention_hours)
        self.delivery = Delivery(self.client, services.db)
        secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
        self.app = App(
            signing_secret=secret,  # the bot token comes with `client`
            client=self.client,
            token_verification_enabled=False,  # auth.test happens lazily, on the first request
            request_verification_enabled=secret is not None,
            process_before_response=False,
            listener_executor=self.executor,
            logger=logging.getLogger("bot.channels.slack.bolt"),
        )
        self._register()
        services.register_sender("slack", self.delivery.send_notification)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until all work started by earlier requests has finished (tests, shutdown)."""
        # bolt's tasks hand their work over before they end, so once they are idle all work is queued.
        return self.executor.wait_idle(timeout) and self.work.wait_idle(timeout)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Finish the work in flight (replies are not dropped), then stop the pools."""
        self.wait_idle(timeout)
        self.executor.shutdown(wait=False)
        self.work.shutdown(wait=False)

    def _deferred(self, fn: Callable[..., None]) -> Callable[..., None]:
        """A bolt lazy listener that only hands ``fn`` to the work pool (same name and signature)."""

        @functools.wraps(fn)
        def hand_off(**kwargs: Any) -> None:
            self.per_user.submit(_user_of(kwargs.get("body") or {}), fn, **kwargs)

        return hand_off

    # ------------------------------------------------------------------
    def _register(self) -> None:
        app = self.app
        later = self._deferred
        app.event("app_mention")(ack=_ack, lazy=[later(self.on_mention)])
        app.event("message")(ack=_ack, lazy=[later(self.on_message)])
        app.event("app_home_opened")(ack=_ack, lazy=[later(self.on_home_opened)])
        app.command(self.settings.slash_command)(ack=_ack, lazy=[later(self.on_command)])
        app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(ack=self.ack_action, lazy=[later(self.on_action)])
        app.view(TICKET_CALLBACK)(ack=_ack, lazy=[later(self.on_ticket_submitted)])
        app.view_closed(TICKET_CALLBACK)(_ack)

    def _once(self, body: dict[str, Any], work: Callable[[], None]) -> None:
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

    def turn(self, *, user_id: str, text: str, channel_id: str | None, thread_ts: str | None,
             private: bool, event_id: str | None = None, action: Action | None = None) -> Reply:
        who = self.users.resolve(user_id)
        thread_key = f"{channel_id}:{thread_ts}" if channel_id and thread_ts else channel_id
        message = Message(text=text, user_key=f"slack:{user_id}", channel="slack", email=who.email,
                          display_name=who.display_name, action=action, is_private=private,
                          thread_key=thread_key, event_id=event_id)
        return self.engine.handle(message)

    # --- events -----------------------------------------------------------
    def on_mention(self, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        """@helpdesk in a channel: answer in the thread (never top-level)."""
        if event.get("bot_id") or not event.get("user") or event.get("subtype") not in ANSWERED_SUBTYPES:
            return

        def work() -> None:
            channel = str(event.get("channel"))
            thread_ts = str(event.get("thread_ts") or event.get("ts"))
            text = clean_text(str(event.get("text") or ""), context.bot_user_id)
            reply = self.turn(user_id=event["user"], text=text, channel_id=channel, thread_ts=thread_ts,
                              private=not is_public(channel), event_id=body.get("event_id"))
            self.delivery.reply_in_place(reply, user_id=event["user"], channel=channel, thread_ts=thread_ts,
                                         public=is_public(channel),
                                         force_ephemeral=is_public(channel) and is_personal(reply))

        self._once(body, work)

    def on_message(self, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        """A direct message. Channel messages arrive as app_mention; bots, edits and deletions are ignored."""
        if event.get("channel_type") != "im" or event.get("bot_id") or not event.get("user"):
            return
        if event.get("subtype") not in ANSWERED_SUBTYPES or event.get("user") == context.bot_user_id:
            return

        def work() -> None:
            channel = str(event.get("channel"))
            thread_ts = event.get("thread_ts")
            text = clean_text(str(event.get("text") or ""), context.bot_user_id)
            reply = self.turn(user_id=event["user"], text=text, channel_id=channel, thread_ts=thread_ts,
                              private=True, event_id=body.get("event_id"))
            self.delivery.reply_in_place(reply, user_id=event["user"], channel=channel, thread_ts=thread_ts,
                                         public=False)

        self._once(body, work)

    def on_home_opened(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return

        def work() -> None:
            self.publish_home(str(event["user"]))

        self._once(body, work)

    def publish_home(self, user_id: str) -> None:
        who = self.users.resolve(user_id)
        tickets = open_tickets(self.services, email=who.email)
        self.client.views_publish(user_id=user_id,
                                  view=home_view(tickets=tickets, command=self.settings.slash_command))

    # --- /helpdesk --------------------------------------------------------
    def on_command(self, body: dict[str, Any]) -> None:
        """``/helpdesk <question>``: the answer only the asker sees, with "Share in channel"."""
        user_id, channel = str(body.get("user_id")), str(body.get("channel_id"))
        question = clean_text(str(body.get("text") or "")) or "what can you do?"  # bare /helpdesk = help
        reply = self.turn(user_id=user_id, text=question, channel_id=channel,
                          thread_ts=None, private=True)
        extra: list[Button] = []
        if is_public(channel) and not reply.private and reply.turn_id and reply.outcome is Outcome.ANSWERED:
            with self.services.db.session() as session:
                session.add(SlackSharedReply(turn_id=reply.turn_id, user_id=user_id, reply=reply.to_dict()))
            extra.append(Button("Share in channel", SHARE_ACTION, {"turn": reply.turn_id}))
        self.delivery.reply_in_place(reply, user_id=user_id, channel=channel, thread_ts=None, public=True,
                                     response_url=body.get("response_url"), force_ephemeral=True,
                                     extra_buttons=extra)

    # --- buttons ----------------------------------------------------------
    def ack_action(self, ack: Ack, body: dict[str, Any]) -> None:
        """Ack, then open the ticket modal right away (trigger_id expires 3 s after the click)."""
        ack()
        action = _first_action(body)
        if action is None or action.action_id not in MODAL_ACTIONS:
            return
        if not self.open_form(body, action):
            self._run_action(body, action, modal=False)  # no modal possible: the flow asks in chat

    def open_form(self, body: dict[str, Any], action: Action) -> bool:
        if not body.get("trigger_id"):
            return False
        if action.action_id == FORM_ACTION:
            fields, submit, title = (action.value.get("fields") or {}, action.value.get("submit"),
                                     action.value.get("title") or "Open a ticket")
        else:
            fields, submit, title = {"summary": action.value.get("summary") or ""}, None, "Open a ticket"
        channel, thread_ts = _where(body)
        view = ticket_modal(fields, submit_action=str(submit or "ticket.submit"), title=str(title),
                            channel=channel, thread_ts=thread_ts)
        try:
            self.client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            return False
        return True

    def on_action(self, body: dict[str, Any]) -> None:
        action = _first_action(body)
        if action is None or action.action_id in MODAL_ACTIONS:
            return
        if action.action_id == SHARE_ACTION:
            self.share(body, str(action.value.get("turn") or ""))
            return
        self._run_action(body, action)

    def _run_action(self, body: dict[str, Any], action: Action, *, modal: bool = True) -> None:
        user_id = str((body.get("user") or {}).get("id"))
        channel, thread_ts = _where(body)
        container = body.get("container") or {}
        ephemeral = bool(container.get("is_ephemeral"))
        in_view = container.get("type") == "view" or channel is None
        reply = self.turn(user_id=user_id, text="", channel_id=channel, thread_ts=thread_ts,
                          private=ephemeral or in_view or not is_public(channel), action=action)
        if modal and reply.form is not None and body.get("trigger_id"):
            form_action = Action(FORM_ACTION, {"fields": reply.form.fields, "submit": reply.form.submit_action,
                                               "title": reply.form.title})
            if self.open_form(body, form_action):
                return
        if reply.outcome is Outcome.FEEDBACK and not is_public(channel) and not ephemeral:
            self.retire_feedback_buttons(body, helpful=bool(action.value.get("helpful")))
        if in_view:
            try:
                self.delivery.to_user(reply, user_id)
            except Exception as exc:
                self.delivery.park(reply, user_id, exc)
            return
        quiet = ephemeral or is_personal(reply)
        self.delivery.reply_in_place(reply, user_id=user_id, channel=str(channel), thread_ts=thread_ts,
                                     public=is_public(channel), response_url=body.get("response_url"),
                                     force_ephemeral=quiet and is_public(channel))

    def retire_feedback_buttons(self, body: dict[str, Any], *, helpful: bool) -> None:
        """In a DM, replace the rated answer's Helpful/Not helpful buttons by the rating (no double votes)."""
        message = body.get("message") or {}
        channel, _ = _where(body)
        if not message.get("ts") or not channel or not message.get("blocks"):
            return
        blocks = []
        for block in message["blocks"]:
            if block.get("type") == "actions":
                kept = [e for e in block.get("elements", [])
                        if (decode_value(e.get("value")) or Action("")).action_id != "answer.feedback"]
                if not kept:
                    continue
                block = {**block, "elements": kept}
            blocks.append(block)
        verdict = ":thumbsup: You found this helpful." if helpful else ":thumbsdown: You found this not helpful."
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": verdict}]})
        try:
            self.client.chat_update(channel=channel, ts=message["ts"], text=message.get("text") or verdict,
                                    blocks=blocks[:50])
        except SlackApiError as exc:  # cosmetic: the rating itself is stored
            log.info("could not update the rated message: %s", exc.response.get("error"))

    def share(self, body: dict[str, Any], turn_id: str) -> None:
        user_id = str((body.get("user") or {}).get("id"))
        channel, _ = _where(body)
        with self.services.db.session() as session:
            row = session.get(SlackSharedReply, turn_id)
            stored = dict(row.reply) if row is not None and row.user_id == user_id else None
            if row is not None and stored is not None:
                session.delete(row)
        if stored is None or not channel:
            self.delivery.reply_in_place(
                Reply(text="That answer can no longer be shared; ask me again.", private=True),
                user_id=user_id, channel=str(channel), thread_ts=None, public=True, force_ephemeral=True,
                response_url=body.get("response_url"))
            return
        reply = Reply.from_dict(stored)
        try:
            self.delivery.post(reply, channel=channel, note=f"Shared by <@{user_id}> via {self.settings.slash_command}")
        except SlackApiError as exc:
            if body.get("response_url"):
                self.delivery.respond(body["response_url"], reply, in_channel=True)
            else:
                self.delivery.park(reply, user_id, exc)

    # --- the ticket modal ------------------------------------------------
    def on_ticket_submitted(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Modal submitted: run the engine's submit action and confirm (with the key) in the DM."""
        user_id = str((body.get("user") or {}).get("id"))
        action, _meta = read_submission(view)
        reply = self.turn(user_id=user_id, text="", channel_id=None, thread_ts=None, private=True,
                          action=action)
        try:
            self.delivery.to_user(reply, user_id)
        except Exception as exc:
            self.delivery.park(reply, user_id, exc)


def _ack(ack: Ack) -> None:
    ack()


def _user_of(body: dict[str, Any]) -> str:
    """The Slack user a payload comes from (events, slash commands, interactivity)."""
    event = body.get("event") or {}
    user = body.get("user")
    return str(event.get("user") or body.get("user_id") or (user.get("id") if isinstance(user, dict) else user)
               or "?")


def _first_action(body: dict[str, Any]) -> Action | None:
    actions = body.get("actions") or []
    if not actions:
        return None
    return decode_value(actions[0].get("value"))


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and thread of the message a button was in (None in App Home / modals)."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    message = body.get("message") or {}
    thread_ts = message.get("thread_ts") or container.get("thread_ts")
    if not thread_ts and channel and is_public(channel):
        thread_ts = message.get("ts") or container.get("message_ts")
    return channel, thread_ts
