"""The ticket flow: open a ticket (form or conversation), duplicate warning, status, rating.

The parts live beside it: :mod:`bot.flows.ticket_escalation` (opening a ticket from
the conversation, the duplicate check) and :mod:`bot.flows.ticket_status` (status,
"my tickets"). :meth:`TicketFlow.escalate` is the one way any flow hands an
employee's request to IT staff.
"""

from __future__ import annotations

import uuid
from typing import Any

from bot.encoding import EncoderProvider
from bot.errors import InvalidInputError
from bot.flows.account_words import affirms
from bot.flows.base import TurnContext
from bot.flows.texts import BUTTON_EXPIRED, CANCELLED
from bot.flows.ticket_escalation import (
    DirectoryProvider,
    Escalation,
    LoadedEncoderProvider,
    TicketingProvider,
    button_extra,
    category_of,
    clean,
    recent_intent,
)
from bot.flows.ticket_status import TicketStatus, not_found
from bot.messages import Action, Button, FormRequest, Outcome, Reply
from bot.storage.base import utcnow
from integrations.ticketing.base import URGENCIES
from integrations.ticketing.drafting import normalise_urgency
from integrations.ticketing.followups import REOPEN_WITHOUT_WORDS, reopen_by_requester
from integrations.ticketing.models import Ticket, TicketComment, TicketOutbox
from integrations.ticketing.notices import TicketNoticeSink
from integrations.ticketing.service import KEY_RE, find_ticket, is_participant
from integrations.ticketing.settings import TicketingSettings
from integrations.ticketing.texts import summary_from_text, urgency_from
from integrations.ticketing.updates import record_event


class TicketFlow:
    """Intents open_ticket, talk_to_human, ticket_status, my_tickets; actions ``ticket.*``."""

    name = "ticket"

    def __init__(self, *, ticketing: TicketingProvider, directory: DirectoryProvider, encoder: EncoderProvider,
                 loaded_encoder: LoadedEncoderProvider, settings: TicketingSettings,
                 notices: TicketNoticeSink) -> None:
        self.escalation = Escalation(ticketing=ticketing, directory=directory, encoder=encoder,
                                     loaded_encoder=loaded_encoder, settings=settings, notices=notices)
        self.status = TicketStatus(ticketing=ticketing, key_prefix=settings.key_prefix)

    def escalate(self, ctx: TurnContext, *, summary: str, details: str, category: str, urgency: str = "normal",
                 extra: dict[str, Any] | None = None, check_duplicates: bool = True) -> Reply:
        """Hand the employee's request to IT (see :meth:`Escalation.escalate`)."""
        return self.escalation.escalate(ctx, summary=summary, details=details, category=category,
                                        urgency=urgency, extra=extra, check_duplicates=check_duplicates)

    # ------------------------------------------------------------------ the Flow protocol
    def handle_intent(self, ctx: TurnContext) -> Reply:
        """open_ticket / talk_to_human start the form; ticket_status and my_tickets answer."""
        intent = ctx.parse.intent.name if ctx.parse else "open_ticket"
        if intent == "ticket_status":
            key = self.status.key_from(ctx)
            return self.status.status(ctx, key) if key else self.status.my_tickets(ctx, asked_status=True)
        if intent == "my_tickets":
            return self.status.my_tickets(ctx)
        summary = summary_from_text(ctx.message.text)
        category = "talk_to_human" if intent == "talk_to_human" else "general"
        return self._start(ctx, summary=summary, details="", category=category,
                           human=intent == "talk_to_human")

    def handle_action(self, ctx: TurnContext, action: Action) -> Reply:
        """The ``ticket.*`` buttons and the ticket form."""
        verb = action.action_id.split(".", 1)[1] if "." in action.action_id else ""
        value = action.value or {}
        if verb == "open":
            return self._start(ctx, summary=clean(ctx, value.get("summary"), 500),
                               details=clean(ctx, value.get("details")),
                               category=category_of(value.get("category") or value.get("intent")
                                                    or recent_intent(ctx)),
                               extra=button_extra(value),
                               urgency=normalise_urgency(str(value["urgency"])) if value.get("urgency") else None)
        if verb == "urgency":
            ctx.update_slots(urgency=normalise_urgency(str(value.get("urgency"))))
            return self._collect(ctx)
        if verb == "cancel":
            if ctx.state.active_flow == self.name:
                ctx.finish()
            return Reply(text=CANCELLED, outcome=Outcome.INFO, private=True)
        if verb == "status":
            return self.status.status(ctx, str(value.get("key") or ""))
        if verb == "mine":
            return self.status.my_tickets(ctx)
        if verb == "link":
            return Reply(text="The ticket opens in your browser.", outcome=Outcome.INFO, private=True)
        handlers = {"submit": self._submit, "comment_existing": self._comment_existing, "rate": self._rate,
                    "reopen": self._reopen, "add_comment": self._ask_comment}
        if verb in handlers:
            return handlers[verb](ctx, value)
        return Reply(text=BUTTON_EXPIRED, outcome=Outcome.ERROR)

    def handle_followup(self, ctx: TurnContext) -> Reply | None:
        """The employee's answer to the form question asked last."""
        stage = ctx.slots.get("stage")
        text = ctx.message.text.strip()
        if stage == "comment":  # after a poor rating: what to tell IT about the resolved ticket
            if text.lower().strip(" .!") in ("cancel", "stop", "never mind", "nevermind", "no"):
                ctx.finish()
                return Reply(text="OK, I won't add anything.", outcome=Outcome.INFO, private=True)
            return self._comment_existing(ctx, {"key": ctx.slots.get("key"), "details": text})
        if stage == "confirm":  # the recap asked "Open this ticket?": only a yes sends it
            if affirms(text):
                ctx.update_slots(confirmed=True)
                return self._collect(ctx)
            if text.lower().strip(" .!") in ("no", "nope", "no thanks", "don't", "dont"):
                ctx.finish()
                return Reply(text=CANCELLED, outcome=Outcome.INFO, private=True)
            return self._ask_confirm(ctx, again=True)
        if stage == "summary":
            ctx.update_slots(summary=clean(ctx, text, 500))
        elif stage == "details":
            ctx.update_slots(details=clean(ctx, text))
        elif stage == "urgency":
            urgency = urgency_from(text)
            if urgency is None:
                if ctx.slots.get("asked_urgency_twice"):
                    urgency = "normal"
                else:
                    ctx.update_slots(asked_urgency_twice=True)
                    return self._ask_urgency(ctx, again=True)
            ctx.update_slots(urgency=urgency)
        else:
            return None
        return self._collect(ctx)

    # ------------------------------------------------------------------ the form
    def _start(self, ctx: TurnContext, *, summary: str, details: str, category: str,
               human: bool = False, extra: dict[str, Any] | None = None, urgency: str | None = None) -> Reply:
        """Open the ticket form; an urgency already known (an urgent situation) is not asked again."""
        # a press of an offered button that already carries everything is the confirmation itself;
        # anything typed in turn by turn ends with a recap the employee confirms
        confirmed = bool(summary and details and urgency and ctx.message.action is not None)
        ctx.begin(self.name, summary=summary, details=details, category=category,
                  extra=extra or {}, urgency=urgency, confirmed=confirmed)
        reply = self._collect(ctx)
        if human and reply.outcome is Outcome.COLLECTING:
            reply.text = "I'll pass this to a person in IT. " + reply.text
        reply.form = FormRequest(kind="ticket", submit_action="ticket.submit", title="Open a ticket",
                                 fields={"summary": summary, "details": details, "urgency": urgency or "normal"})
        return reply

    def _collect(self, ctx: TurnContext) -> Reply:
        """Ask for the next missing field, or submit when everything is known."""
        s = ctx.slots
        if not s.get("summary"):
            ctx.update_slots(stage="summary")
            return Reply(text="Let's open a ticket for IT. In one sentence, what's the problem?",
                         outcome=Outcome.COLLECTING, private=True)
        if not s.get("details"):
            ctx.update_slots(stage="details")
            return Reply(text=f"Ticket about “{s['summary']}”. Tell me more: what happened, since when, "
                              "and any error message you saw? (say “cancel” to stop)",
                         outcome=Outcome.COLLECTING, private=True)
        if not s.get("urgency"):
            return self._ask_urgency(ctx)
        if not s.get("confirmed"):
            return self._ask_confirm(ctx)
        return self._submit(ctx, {"summary": s["summary"], "details": s["details"],
                                  "urgency": s["urgency"], "category": s.get("category") or "general",
                                  "extra": s.get("extra") or {}})

    def _ask_urgency(self, ctx: TurnContext, *, again: bool = False) -> Reply:
        ctx.update_slots(stage="urgency")
        lead = "Sorry, I didn't get that. " if again else ""
        return Reply(text=f"{lead}How urgent is it? low, normal, high (blocks your work) or critical "
                          "(many people affected)?",
                     outcome=Outcome.COLLECTING, private=True,
                     buttons=[Button(u.capitalize(), "ticket.urgency", {"urgency": u}) for u in URGENCIES])

    def _ask_confirm(self, ctx: TurnContext, *, again: bool = False) -> Reply:
        """The recap of a form filled in turn by turn: nothing reaches IT until the employee says yes."""
        s = ctx.slots
        ctx.update_slots(stage="confirm")
        details = str(s.get("details") or "")
        if len(details) > 300:
            details = details[:297].rstrip() + "…"
        lead = "Sorry, I didn't get that. " if again else ""
        value = {"summary": s.get("summary"), "details": s.get("details"), "urgency": s.get("urgency"),
                 "category": s.get("category") or "general", "extra": s.get("extra") or {}}
        return Reply(text=f"{lead}Here is the ticket I'll send to IT:\n"
                          f"• Summary: {s.get('summary')}\n• Details: {details}\n"
                          f"• Urgency: {str(s.get('urgency')).capitalize()}\n"
                          "Shall I open it? (yes / cancel)",
                     outcome=Outcome.COLLECTING, private=True,
                     buttons=[Button("Open the ticket", "ticket.submit", value, style="primary"),
                              Button("Cancel", "ticket.cancel", {})])

    def _submit(self, ctx: TurnContext, value: dict[str, Any]) -> Reply:
        summary = clean(ctx, value.get("summary"), 500)
        details = clean(ctx, value.get("details"))
        if not summary and not details:
            raise InvalidInputError("Please fill in the summary: one sentence about the problem.")
        extra = button_extra(value.get("extra"))
        if value.get("force"):
            extra["_force"] = True
        if value.get("idem"):  # a surface's own key (a retried Slack click): the same ticket, never a second
            extra["_idem_key"] = value["idem"]
        category = category_of(value.get("category") or ctx.slots.get("category"))
        reply = self.escalate(ctx, summary=summary or details[:120], details=details or summary,
                              category=category, urgency=str(value.get("urgency") or "normal"), extra=extra)
        if reply.outcome is not Outcome.ESCALATED:
            ctx.finish()
        return reply

    # ------------------------------------------------------------------ existing tickets
    @staticmethod
    def _own_ticket(ctx: TurnContext, key: Any, ticket_id: Any = None) -> Ticket:
        ticket = None
        if ticket_id is not None:
            try:
                number = int(ticket_id)
            except (TypeError, ValueError):  # a forged button value
                number = 0
            ticket = ctx.session.get(Ticket, number) if 0 < number < 2**31 else None
        key = str(key or "").strip().upper()
        if not KEY_RE.fullmatch(key):
            key = ""
        if ticket is None and key:
            ticket = find_ticket(ctx.session, key)
        if ticket is None or not is_participant(ticket, user_key=ctx.message.user_key, email=ctx.message.email):
            # "not yours" reads exactly like "does not exist": no hint which keys exist
            raise InvalidInputError(not_found(key).text)
        return ticket

    def _comment_existing(self, ctx: TurnContext, value: dict[str, Any]) -> Reply:
        ticket = self._own_ticket(ctx, value.get("key"), value.get("ticket_id"))
        body = clean(ctx, value.get("details")) or clean(ctx, value.get("summary"))
        if not body:
            raise InvalidInputError("There is nothing to add to the ticket.")
        author = ctx.message.display_name or ctx.message.email or ctx.message.user_key
        ctx.finish()
        if ticket.backend == "jira":  # the outbox worker adds it once (after creation, if queued)
            ctx.session.add(TicketOutbox(ticket_id=ticket.id, kind="comment",
                                         payload={"body": body, "author": author,
                                                  "ref": uuid.uuid4().hex[:12]}))
        ctx.session.add(TicketComment(ticket_id=ticket.id, author=author, body=body, from_requester=True))
        ticket.updated_at = utcnow()
        record_event(ctx.session, ticket, "requester_comment", actor=ctx.message.user_key)
        name = ticket.key or "your queued ticket"
        return Reply(text=f"Done — what you wrote is added to {name} (“{ticket.summary}”). "
                          "IT will see it there.",
                     outcome=Outcome.ESCALATED, private=True, ticket_key=ticket.key, ticket_url=ticket.url)

    def _rate(self, ctx: TurnContext, value: dict[str, Any]) -> Reply:
        ticket = self._own_ticket(ctx, str(value.get("key") or ""))
        raw: Any = value.get("rating")
        try:
            rating = int(raw)
        except (TypeError, ValueError):
            raise InvalidInputError("That rating is not valid.") from None
        if not 1 <= rating <= 5:
            raise InvalidInputError("Ratings go from 1 to 5.")
        ticket.rating = rating
        record_event(ctx.session, ticket, "rated", actor=ctx.message.user_key, rating=rating)
        if rating <= 2:  # a poor rating: offer to reopen it or to tell IT what is still wrong
            value = {"key": ticket.key}
            return Reply(text=f"Sorry {ticket.key} didn't go well. Is the problem still there? I can reopen "
                              "the ticket, or pass on what went wrong to IT.",
                         outcome=Outcome.FEEDBACK, private=True, ticket_key=ticket.key,
                         buttons=[Button(f"Reopen {ticket.key}", "ticket.reopen", value, style="primary"),
                                  Button("Add a comment", "ticket.add_comment", value)])
        return Reply(text=f"Thanks for rating {ticket.key}! It helps IT improve.",
                     outcome=Outcome.FEEDBACK, private=True, ticket_key=ticket.key)

    def _ask_comment(self, ctx: TurnContext, value: dict[str, Any]) -> Reply:
        ticket = self._own_ticket(ctx, str(value.get("key") or ""))
        ctx.begin(self.name, stage="comment", key=ticket.key)
        return Reply(text=f"What should IT know about {ticket.key}? I'll add it to the ticket. "
                          "(say “cancel” to stop)", outcome=Outcome.COLLECTING, private=True,
                     ticket_key=ticket.key)

    def _reopen(self, ctx: TurnContext, value: dict[str, Any]) -> Reply:
        """The employee reopens their own resolved ticket (pressing the button is the confirmation).

        The rule is the ticketing library's (:func:`~integrations.ticketing.followups.reopen_by_requester`,
        also behind Slack's *Did this fix it? → Reopen*); the button has no words, so a standard line is theirs.
        """
        ticket = self._own_ticket(ctx, str(value.get("key") or ""))
        if ticket.status_category != "done":
            return Reply(text=f"{ticket.key} is still open: IT is on it.", outcome=Outcome.INFO, private=True,
                         ticket_key=ticket.key)
        who = ctx.message.display_name or ctx.message.email or ctx.message.user_key
        reopened = reopen_by_requester(ctx.session, ticket.key or "", user_key=ctx.message.user_key, author=who,
                                       words=REOPEN_WITHOUT_WORDS, settings=self.escalation.settings,
                                       sink=self.escalation.notices)
        if reopened.queued:  # Jira: the comment, then the reopen transition, through the outbox
            text = f"I've asked IT to reopen {ticket.key}; you'll hear from them here."
        else:
            text = f"I've reopened {ticket.key} (“{ticket.summary}”). IT will pick it up again."
        return Reply(text=text, outcome=Outcome.ESCALATED, private=True, ticket_key=ticket.key,
                     ticket_url=ticket.url)
