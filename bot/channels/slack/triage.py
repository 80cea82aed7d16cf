"""IT staff working tickets from Slack: the card's buttons, the Reply modal, and the two-way relay.

Every change goes through the ticketing library's rules (``integrations.ticketing.queue``:
assign, resolve, comment; :func:`~integrations.ticketing.updates.apply_comment` and the
ticket outbox for Jira), so the employee hears of it exactly as from the CLI, the
console or Jira, through the notices and the notification outbox. Only IT staff
(:class:`~.triage_access.ItStaff`) may claim, reply or resolve; anyone else gets a
polite ephemeral refusal and nothing changes. Every action is a ticket event with
the agent as actor, and an entry in the console's audit log.

The employee's answer in the ticket's DM thread is run as their own turn
(``ticket.comment_existing``: the ticket flow's rule for adding to a ticket), then
shown in the card's thread. A card shows the ticket as it is now
(:mod:`.triage_sync` queues an update for every card whose ticket changed anywhere).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.channels.slack.delivery import Delivery
from bot.channels.slack.identity import SlackUser, UserResolver
from bot.channels.slack.jobs import Job
from bot.channels.slack.triage_access import ItStaff
from bot.channels.slack.triage_card import CLAIM, REPLY, RESOLVE, reply_modal
from bot.channels.slack.triage_models import SlackRelayedMessage, SlackTicketThread
from bot.channels.slack.triage_send import queue_card_thread, queue_card_update
from bot.channels.slack.triage_sync import CardSync
from bot.channels.slack.turns import Turns
from bot.errors import HelpdeskError
from bot.messages import Action
from bot.redact import redact
from bot.storage.session import Database
from integrations.ticketing import queue
from integrations.ticketing.models import Ticket, TicketOutbox
from integrations.ticketing.notices import TicketNoticeSink
from integrations.ticketing.service import find_ticket
from integrations.ticketing.updates import apply_comment, record_event

log = logging.getLogger(__name__)
NOT_IT = ("Sorry, only IT staff can {what} tickets here. If you need help yourself, "
          "send me a direct message and I'll open a ticket for you.")
USE_THREAD = "To write to the employee about {key}, reply in this card's thread (the Reply form has expired)."
EMPTY_REPLY = "The reply is empty: nothing was sent."


class TriageDesk:
    """The triage jobs (see :data:`handlers`) and the periodic card sync."""

    def __init__(self, *, client: WebClient, db: Database, notices: TicketNoticeSink, users: UserResolver,
                 staff: ItStaff, turns: Turns, delivery: Delivery, secrets: tuple[str, ...] = (),
                 sync_seconds: float = 10.0) -> None:
        self.client = client
        self.db = db
        self.notices = notices
        self.users = users
        self.staff = staff
        self.turns = turns
        self.delivery = delivery
        self.secrets = secrets
        self.sync = CardSync(db, interval=sync_seconds)

    def handlers(self) -> dict[str, Any]:
        """The :class:`~.work.Work` handlers of the triage job kinds (``(job, live)``)."""
        return {"triage_action": lambda job, live: self.on_action(job, live=live),
                "triage_reply": lambda job, live: self.on_reply_submitted(job),
                "triage_thread": lambda job, live: self.on_card_thread(job),
                "relay_in": lambda job, live: self.on_employee_answer(job)}

    # --- who may --------------------------------------------------------------------------
    def _agent(self, job: Job, what: str, key: str | None) -> SlackUser | None:
        """The clicking IT member, or None after telling a non-member politely (only they see it).

        Without a configured IT channel or group, IT is whoever is in the channel where the
        ticket's card is (from our records: never from a payload's metadata).
        """
        user_id = str(job["user"])
        card_channel = None
        with self.db.session() as session:
            ticket = find_ticket(session, key) if key else None
            row = session.get(SlackTicketThread, ticket.id) if ticket is not None else None
            card_channel = row.card_channel if row is not None else None
        if self.staff.is_member(user_id, card_channel=card_channel):
            return self.users.resolve(user_id)
        log.info("triage: %s %s refused to %s (not IT staff)", what, key or "a ticket", user_id)
        self._ephemeral(job, NOT_IT.format(what=what))
        return None

    def _ephemeral(self, job: Job, text: str) -> None:
        channel = job.get("channel")
        if not isinstance(channel, str) or not channel:
            self.delivery.notice(text, user_id=str(job["user"]), channel=None)
            return
        try:
            self.client.chat_postEphemeral(channel=channel, user=str(job["user"]), text=text,
                                           **({"thread_ts": job["thread_ts"]} if job.get("thread_ts") else {}))
        except SlackApiError as exc:
            log.info("could not answer ephemerally: %s", exc.response.get("error"))
            self.delivery.notice(text, user_id=str(job["user"]), channel=None)

    @staticmethod
    def _name(agent: SlackUser) -> str:
        return agent.display_name or agent.email or agent.user_id

    def _audit(self, session: Session, agent: SlackUser, action: str, ticket: Ticket, **details: Any) -> None:
        """An entry in the console's audit log (who did what to which ticket, from Slack)."""
        from bot.console.audit import record  # lazily: the console package pulls in its web stack

        record(session, actor=agent.email or f"slack:{agent.user_id}", action=f"ticket.{action}",
               target=ticket.key or str(ticket.id), details={"via": "slack", "slack_user": agent.user_id, **details})

    # --- the card's buttons ------------------------------------------------------------------
    def on_action(self, job: Job, *, live: bool = True) -> None:
        """Claim or Resolve from the card (Reply without a live trigger: point to the thread)."""
        action_id = str(job.get("action_id"))
        value = job.get("value")
        key = str(value.get("key") or "") if isinstance(value, dict) else ""
        if action_id == REPLY:
            if self._agent(job, "reply on", key) is not None:
                self._ephemeral(job, USE_THREAD.format(key=key))
            return
        what = {CLAIM: "claim", RESOLVE: "resolve"}.get(action_id)
        if what is None:
            return
        agent = self._agent(job, what, key)
        if agent is None:
            return
        name = self._name(agent)
        try:
            with self.db.session() as session:
                ticket = queue.load(session, key)
                if action_id == CLAIM:
                    queue.assign(session, key, name, actor=name, sink=self.notices)
                else:
                    queue.resolve(session, key, resolution="Done", closing_comment=None, actor=name,
                                  sink=self.notices)
                record_event(session, ticket, f"slack_{what}", actor=name, slack_user=agent.user_id)
                self._audit(session, agent, what, ticket)
                queue_card_update(session, ticket)
        except HelpdeskError as exc:  # e.g. already resolved, or a Jira ticket (worked in Jira)
            self._ephemeral(job, exc.user_message)

    def open_reply(self, job: Job) -> None:
        """Right after the click: the Reply modal for IT staff, a polite refusal for anyone else."""
        value = job.get("value")
        key = str(value.get("key") or "")[:64] if isinstance(value, dict) else ""
        if self._agent(job, "reply on", key) is None:
            return
        self.client.views_open(trigger_id=str(job["trigger_id"]), view=reply_modal(key, str(job.get("channel") or "")))

    def on_reply_submitted(self, job: Job) -> None:
        """The Reply modal: to the employee, on the ticket, and shown in the card's thread."""
        key = str(job.get("ticket_key") or "")
        agent = self._agent(job, "reply on", key)  # the modal's metadata is the client's: check again
        if agent is None:
            return
        text = str(job.get("text") or "").strip()
        if not text:
            self._ephemeral(job, EMPTY_REPLY)
            return
        self._relay_to_employee(job, agent, key, text, source=str(job["source"]), show_in_thread=True)

    def on_card_thread(self, job: Job) -> None:
        """An IT member's message in a card's thread goes to the employee (anyone else is told privately)."""
        with self.db.session() as session:
            ticket = session.get(Ticket, int(job["ticket_id"]))
            key = ticket.key if ticket is not None else None
        agent = self._agent(job, "reply on", key)
        if agent is None:
            return
        text = str(job.get("text") or "").strip()
        if text and key:
            self._relay_to_employee(job, agent, key, text, source=f"{job['channel']}:{job['ts']}",
                                    show_in_thread=False)

    # --- the relay -----------------------------------------------------------------------
    @staticmethod
    def _first_time(session: Session, source: str, ticket: Ticket, direction: str, actor: str) -> bool:
        """Remember that ``source`` was relayed; False when it already was (a re-run)."""
        try:
            with session.begin_nested():
                session.add(SlackRelayedMessage(source=source, ticket_id=ticket.id, direction=direction,
                                                actor=actor[:64]))
                session.flush()
        except IntegrityError:
            return False
        return True

    def _relay_to_employee(self, job: Job, agent: SlackUser, key: str, text: str, *, source: str,
                           show_in_thread: bool) -> None:
        """IT's words as a ticket comment (local queue, or Jira through the outbox) that reaches the employee."""
        name = self._name(agent)
        body = redact(text, self.secrets)
        try:
            with self.db.session() as session:
                ticket = queue.load(session, key)
                if not self._first_time(session, source, ticket, "to_employee", agent.user_id):
                    return
                if ticket.backend == "local":
                    queue.comment(session, key, body, author=name, sink=self.notices)
                else:  # Jira: the employee hears it now; the comment reaches Jira once through the outbox
                    ref = uuid.uuid4().hex[:12]
                    apply_comment(session, ticket, sink=self.notices, author=name, body=body,
                                  external_id=f"slack-{ref}")
                    session.add(TicketOutbox(ticket_id=ticket.id, kind="comment",
                                             payload={"body": body, "author": name, "ref": ref}))
                record_event(session, ticket, "slack_reply", actor=name, slack_user=agent.user_id)
                self._audit(session, agent, "reply", ticket)
                if show_in_thread:
                    queue_card_thread(session, ticket, f"*{name}* (IT) wrote to the employee:\n>{body}",
                                      dedupe_key=f"slack-relay:{source}")
                queue_card_update(session, ticket)
        except HelpdeskError as exc:
            self._ephemeral(job, exc.user_message)

    def on_employee_answer(self, job: Job) -> None:
        """The requester's message in their ticket's DM thread: added to the ticket, shown on the card's thread."""
        user_id, source = str(job["user"]), f"{job['channel']}:{job['ts']}"
        with self.db.session() as session:
            ticket = session.get(Ticket, int(job["ticket_id"]))
            if ticket is None or ticket.requester_user_key != f"slack:{user_id}":
                return
            key = ticket.key
            if not self._first_time(session, source, ticket, "to_it", user_id):
                return
        reply = self.turns.run(user_id=user_id, text="", channel_id=str(job["channel"]),
                               thread_ts=str(job["thread_ts"]), private=True,
                               action=Action("ticket.comment_existing", {"key": key, "details": job.get("text")}))
        self.delivery.reply_in_place(reply, user_id=user_id, channel=str(job["channel"]),
                                     thread_ts=str(job["thread_ts"]), public=False)
        who = self.users.resolve(user_id)
        words = redact(str(job.get("text") or ""), self.secrets)
        with self.db.session() as session:
            ticket = session.get(Ticket, int(job["ticket_id"]))
            if ticket is not None:
                queue_card_thread(session, ticket, f"*{who.display_name or who.email or 'The employee'}* "
                                                   f"(employee) answered:\n>{words}",
                                  dedupe_key=f"slack-relay:{source}")
                queue_card_update(session, ticket)

    # --- keeping the cards current (see :class:`~.triage_sync.CardSync`) -------------------------
    def sync_once(self) -> int:
        """Queue an update for each card whose ticket changed since it was drawn; how many were queued."""
        return self.sync.run_once()

    def start(self) -> None:
        """Keep the cards current in the background (``serve`` and ``slack socket``)."""
        self.sync.start()

    def stop(self) -> None:
        """Stop the background sync."""
        self.sync.stop()
