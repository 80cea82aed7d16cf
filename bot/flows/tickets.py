"""The ticket flow: open a ticket (form or conversation), duplicate warning, status, rating.

``escalate`` is the one way any flow hands an employee's request to IT staff.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from typing import Any

from sqlalchemy import select

from bot.errors import HelpdeskError, InvalidInputError, NotPermittedError, TicketingError
from bot.flows.base import TurnContext
from bot.messages import Action, Button, FormRequest, Outcome, Reply
from bot.redact import redact
from bot.storage.base import utcnow
from bot.storage.models import AnalyticsEvent
from integrations.ticketing.base import URGENCIES, RemoteTicket
from integrations.ticketing.drafting import TicketRequest, normalise_urgency
from integrations.ticketing.duplicates import find_duplicate
from integrations.ticketing.models import Ticket, TicketComment, TicketOutbox
from integrations.ticketing.service import (
    KEY_RE,
    find_ticket,
    is_participant,
    new_idem_key,
    open_ticket,
    open_tickets_of,
    tickets_of,
)
from integrations.ticketing.texts import ago as _ago
from integrations.ticketing.texts import status_words, summary_from_text, urgency_from
from integrations.ticketing.updates import record_event

log = logging.getLogger(__name__)

TRANSCRIPT_HOURS = 4
KEY_ENTITIES = ("ticket_key", "ticket_id", "ticket", "issue_key", "key")


def _slot_text(value: Any, limit: int = 3000) -> str:
    text = str(value or "").strip()
    return text[:limit]


def _clean(ctx: TurnContext, value: Any, limit: int = 3000) -> str:
    """The employee's text with secrets masked (before it is kept anywhere), then shortened."""
    return _slot_text(redact(str(value or ""), ctx.services.settings.secret_values()), limit)


# extra keys a button or form may carry (its value is forged easily); other keys ("Details from
# the bot") only come from code calling ``escalate``
BUTTON_EXTRA_KEYS = ("articles_suggested", "articles_unhelpful")
ARTICLE_FIELDS = ("article_id", "title", "url")


def _button_extra(value: Any) -> dict[str, Any]:
    """The whitelisted part of an ``extra`` from a button value: article lists, plain strings only."""
    if not isinstance(value, dict):
        return {}
    out: dict[str, Any] = {}
    for key in BUTTON_EXTRA_KEYS:
        items = value.get(key)
        if not isinstance(items, list):
            continue
        clean = []
        for item in items[:10]:
            if isinstance(item, str):
                item = {"article_id": item}
            if not isinstance(item, dict):
                continue
            article = {f: str(item[f])[:300] for f in ARTICLE_FIELDS
                       if isinstance(item.get(f), (str, int))}
            url = article.get("url")
            if url and not url.startswith(("https://", "http://")):
                article.pop("url")
            if article.get("article_id") or article.get("title"):
                clean.append(article)
        out[key] = clean
    return out


# --------------------------------------------------------------------------- escalation
def escalate(ctx: TurnContext, *, summary: str, details: str, category: str, urgency: str = "normal",
             extra: dict | None = None, check_duplicates: bool = True) -> Reply:
    """Hand the employee's request to IT: ticket row + outbox in the turn's transaction.

    Local queue: the reply carries the key at once. Jira: the reply says the ticket
    is queued; the key follows as a notification when the worker has created it.
    When the employee already has an open ticket that looks like the same problem
    (and ``check_duplicates``), the reply offers to add a comment to it instead.
    """
    extra = dict(extra or {})
    services = ctx.services
    settings = services.settings
    summary = _clean(ctx, summary, 500) or _clean(ctx, details, 200)
    details = _clean(ctx, details)
    if not summary:
        raise InvalidInputError("Please tell me briefly what the problem is, so IT can help.")
    if check_duplicates and not extra.pop("_force", False):
        dup = _duplicate_of(ctx, f"{summary}. {details}")
        if dup is not None:
            return _duplicate_reply(dup, summary=summary, details=details, category=category,
                                    urgency=urgency, extra=extra)
    message = ctx.message
    since = utcnow() - dt.timedelta(hours=TRANSCRIPT_HOURS)  # this conversation, not last month's
    transcript = [(e.created_at.strftime("%Y-%m-%d %H:%M"), e.speaker, e.text)
                  for e in ctx.recent_transcript(settings.ticketing.transcript_lines)
                  if e.created_at >= since]
    suggested, unhelpful = _articles(ctx, extra)
    req = TicketRequest(
        idem_key=new_idem_key(), summary=summary, details=details or summary,
        category=category or "general", urgency=normalise_urgency(urgency),
        requester_user_key=message.user_key, requester_email=message.email,
        requester_name=message.display_name,
        intent=ctx.parse.intent.name if ctx.parse else None,
        confidence=float(ctx.parse.intent.confidence) if ctx.parse else None,
        transcript=transcript, articles_suggested=suggested, articles_unhelpful=unhelpful,
        person=_person(ctx), extra=extra,
    )
    ticket = open_ticket(ctx.session, settings, services.ticketing, req)
    ctx.finish()
    if ticket.key:
        link = f" ({ticket.url})" if ticket.url else ""
        text = (f"I've opened ticket {ticket.key}{link} for IT: “{ticket.summary}”. "
                "I'll message you here when IT replies or resolves it.")
    else:
        text = (f"Your ticket for IT is queued: “{ticket.summary}”. "
                "I'm filing it in Jira now — you'll get the ticket key here shortly.")
    buttons = [Button(f"Open {ticket.key}", "ticket.link", url=ticket.url)] if ticket.url else []
    return Reply(text=text, outcome=Outcome.ESCALATED, ticket_key=ticket.key, ticket_url=ticket.url,
                 private=True, buttons=buttons)


def _person(ctx: TurnContext) -> dict[str, Any] | None:
    email = ctx.message.email
    if not email:
        return None
    try:
        directory = ctx.services.directory
        if directory is None:
            return None
        return directory.person_details(email)
    except Exception as exc:  # noqa: BLE001 - a directory outage must never lose the escalation
        detail = exc.detail if isinstance(exc, HelpdeskError) else type(exc).__name__
        log.warning("directory details unavailable for the ticket: %s", detail)
        return None


def _articles(ctx: TurnContext, extra: dict) -> tuple[list[dict], list[dict]]:
    """Articles suggested this conversation (analytics + the caller's list) and those rated unhelpful."""
    def norm(items: Any) -> list[dict]:
        out = []
        for item in items or []:
            out.append(item if isinstance(item, dict) else {"article_id": str(item)})
        return out

    suggested = norm(extra.pop("articles_suggested", None))
    unhelpful = norm(extra.pop("articles_unhelpful", None))
    since = utcnow() - dt.timedelta(hours=2)
    ids = ctx.session.scalars(select(AnalyticsEvent.top_article_id).where(
        AnalyticsEvent.user_key == ctx.message.user_key, AnalyticsEvent.created_at >= since,
        AnalyticsEvent.top_article_id.is_not(None), AnalyticsEvent.outcome == Outcome.ANSWERED.value,
    ).order_by(AnalyticsEvent.id)).all()
    known = {a.get("article_id") for a in suggested}
    for article_id in dict.fromkeys(ids):
        if article_id not in known:
            suggested.append({"article_id": article_id})
    return suggested, unhelpful


def _duplicate_of(ctx: TurnContext, text: str) -> tuple[Ticket, float] | None:
    cfg = ctx.services.settings.ticketing
    if cfg.duplicate_method == "off":
        return None
    candidates = open_tickets_of(ctx.session, user_key=ctx.message.user_key, email=ctx.message.email)
    if not candidates:
        return None
    encoder = None
    if cfg.duplicate_method == "embedding" or (
            cfg.duplicate_method == "auto" and "encoder" in vars(ctx.services)):
        encoder = ctx.services.encoder
    return find_duplicate(text, candidates, encoder=encoder,
                          embedding_threshold=cfg.duplicate_embedding_threshold,
                          token_threshold=cfg.duplicate_token_threshold)


def _category(value: Any) -> str:
    """A category from a button value: a short identifier, else "general"."""
    text = str(value or "").strip()
    return text if re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", text) else "general"


NOT_A_CATEGORY = {"greet", "goodbye", "thanks", "bot_capabilities", "affirm", "deny", "out_of_scope",
                  "open_ticket", "talk_to_human", "ticket_status", "my_tickets"}


def _recent_intent(ctx: TurnContext) -> str | None:
    """The topic of the employee's latest question (for a ticket opened from an answer's button)."""
    since = utcnow() - dt.timedelta(hours=2)
    for intent in ctx.session.scalars(select(AnalyticsEvent.intent).where(
            AnalyticsEvent.user_key == ctx.message.user_key, AnalyticsEvent.created_at >= since,
            AnalyticsEvent.intent.is_not(None)).order_by(AnalyticsEvent.id.desc()).limit(5)):
        if intent not in NOT_A_CATEGORY:
            return intent
    return None


def _words(t: Ticket) -> str:
    return status_words(t.status, t.status_category, t.assignee, t.resolution)


def _duplicate_reply(dup: tuple[Ticket, float], *, summary: str, details: str, category: str,
                     urgency: str, extra: dict) -> Reply:
    ticket, _score = dup
    name = ticket.key or "your queued ticket"
    draft = {"summary": summary, "details": details[:1500], "urgency": urgency, "category": category}
    return Reply(
        text=(f"You already have an open ticket that looks like the same problem: {name} "
              f"“{ticket.summary}” ({_words(ticket)}). "
              "Shall I add what you wrote to it as a comment instead?"),
        outcome=Outcome.COLLECTING, private=True, ticket_key=ticket.key, ticket_url=ticket.url,
        buttons=[
            Button(f"Add to {name}", "ticket.comment_existing",
                   {"ticket_id": ticket.id, "key": ticket.key, **draft}, style="primary"),
            Button("Open a new ticket", "ticket.submit", {**draft, "force": True, "extra": extra}),
        ])


# --------------------------------------------------------------------------- the flow
class TicketFlow:
    """Intents open_ticket, talk_to_human, ticket_status, my_tickets; actions ``ticket.*``."""

    name = "ticket"

    def handle_intent(self, ctx: TurnContext) -> Reply:
        intent = ctx.parse.intent.name if ctx.parse else "open_ticket"
        if intent == "ticket_status":
            key = self._key_from(ctx)
            return self._status(ctx, key) if key else self._my_tickets(ctx, asked_status=True)
        if intent == "my_tickets":
            return self._my_tickets(ctx)
        summary = summary_from_text(ctx.message.text)
        category = "talk_to_human" if intent == "talk_to_human" else "general"
        return self._start(ctx, summary=summary, details="", category=category,
                           human=intent == "talk_to_human")

    def handle_action(self, ctx: TurnContext, action: Action) -> Reply:
        verb = action.action_id.split(".", 1)[1] if "." in action.action_id else ""
        value = action.value or {}
        if verb == "open":
            return self._start(ctx, summary=_clean(ctx, value.get("summary"), 500),
                               details=_clean(ctx, value.get("details")),
                               category=_category(value.get("category") or value.get("intent")
                                                  or _recent_intent(ctx)),
                               extra=_button_extra(value))
        if verb == "submit":
            return self._submit(ctx, value)
        if verb == "urgency":
            ctx.update_slots(urgency=normalise_urgency(str(value.get("urgency"))))
            return self._collect(ctx)
        if verb == "comment_existing":
            return self._comment_existing(ctx, value)
        if verb == "rate":
            return self._rate(ctx, value)
        if verb == "status":
            return self._status(ctx, str(value.get("key") or ""))
        if verb == "mine":
            return self._my_tickets(ctx)
        if verb == "link":
            return Reply(text="The ticket opens in your browser.", outcome=Outcome.INFO, private=True)
        return Reply(text="That button has expired. What can I help you with?", outcome=Outcome.ERROR)

    def handle_followup(self, ctx: TurnContext) -> Reply | None:
        stage = ctx.slots.get("stage")
        text = ctx.message.text.strip()
        if stage == "summary":
            ctx.update_slots(summary=_clean(ctx, text, 500))
        elif stage == "details":
            ctx.update_slots(details=_clean(ctx, text))
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

    # ------------------------------------------------------------------ opening
    def _start(self, ctx: TurnContext, *, summary: str, details: str, category: str,
               human: bool = False, extra: dict | None = None) -> Reply:
        ctx.begin(self.name, summary=summary, details=details, category=category,
                  extra=extra or {}, urgency=None)
        reply = self._collect(ctx)
        if human and reply.outcome is Outcome.COLLECTING:
            reply.text = "I'll pass this to a person in IT. " + reply.text
        reply.form = FormRequest(kind="ticket", submit_action="ticket.submit", title="Open a ticket",
                                 fields={"summary": summary, "details": details, "urgency": "normal"})
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

    def _submit(self, ctx: TurnContext, value: dict[str, Any]) -> Reply:
        summary = _clean(ctx, value.get("summary"), 500)
        details = _clean(ctx, value.get("details"))
        if not summary and not details:
            raise InvalidInputError("Please fill in the summary: one sentence about the problem.")
        extra = _button_extra(value.get("extra"))
        if value.get("force"):
            extra["_force"] = True
        category = _category(value.get("category") or ctx.slots.get("category"))
        reply = escalate(ctx, summary=summary or details[:120], details=details or summary,
                         category=category, urgency=str(value.get("urgency") or "normal"), extra=extra)
        if reply.outcome is not Outcome.ESCALATED:
            ctx.finish()
        return reply

    # ------------------------------------------------------------------ existing tickets
    def _own_ticket(self, ctx: TurnContext, key: str | None, ticket_id: Any = None) -> Ticket:
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
        if ticket is None:
            raise InvalidInputError(f"I can't find ticket {key}.".replace(" .", "."))
        if not is_participant(ticket, user_key=ctx.message.user_key, email=ctx.message.email):
            raise NotPermittedError("I can only do that for tickets you reported.")
        return ticket

    def _comment_existing(self, ctx: TurnContext, value: dict[str, Any]) -> Reply:
        ticket = self._own_ticket(ctx, value.get("key"), value.get("ticket_id"))
        body = _clean(ctx, value.get("details")) or _clean(ctx, value.get("summary"))
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
        try:
            rating = int(value.get("rating"))
        except (TypeError, ValueError):
            raise InvalidInputError("That rating is not valid.") from None
        if not 1 <= rating <= 5:
            raise InvalidInputError("Ratings go from 1 to 5.")
        ticket.rating = rating
        record_event(ctx.session, ticket, "rated", actor=ctx.message.user_key, rating=rating)
        return Reply(text=f"Thanks for rating {ticket.key}! It helps IT improve.",
                     outcome=Outcome.FEEDBACK, private=True, ticket_key=ticket.key)

    def _status(self, ctx: TurnContext, key: str) -> Reply:
        key = key.strip().upper()
        if not KEY_RE.fullmatch(key):  # never put an unchecked value into a Jira REST path
            return Reply(text="I can't find that ticket. Check the key (it looks like IT-123), "
                              "or ask for “my tickets”.", outcome=Outcome.INFO, private=True)
        ticket = find_ticket(ctx.session, key)
        backend = ctx.services.ticketing
        remote: RemoteTicket | None = None
        if ticket is not None:
            if not is_participant(ticket, user_key=ctx.message.user_key, email=ctx.message.email):
                return self._not_yours(key)
        if backend.name == "jira":
            try:
                remote = backend.get(key, session=ctx.session)
            except TicketingError as exc:
                log.warning("live status of %s unavailable: %s", key, exc.detail)
            if ticket is None:
                email = (ctx.message.email or "").lower()
                if remote is None:
                    return Reply(text=f"I can't find ticket {key}, or Jira isn't answering right now.",
                                 outcome=Outcome.INFO, private=True)
                if not email or (remote.reporter_email or "").lower() != email:
                    return self._not_yours(key)
        if ticket is None and remote is None:
            return Reply(text=f"I can't find ticket {key}. Check the key (it looks like IT-123), "
                              "or ask for “my tickets”.", outcome=Outcome.INFO, private=True)
        # display only: our copy changes through the webhook (apply_status), so the "resolved"
        # message with rating buttons is never skipped because a status check saw it first
        status, category = ((remote.status, remote.status_category) if remote
                            else (ticket.status, ticket.status_category))
        assignee = remote.assignee if remote else ticket.assignee
        resolution = remote.resolution if remote else ticket.resolution
        updated = (remote.updated if remote and remote.updated else ticket.updated_at if ticket else None)
        summary = remote.summary if remote else ticket.summary
        url = remote.url if remote else ticket.url
        stale = (" (Jira isn't answering; this is the last state I know)"
                 if backend.name == "jira" and remote is None else "")
        text = (f"{key} “{summary}” is {status_words(status, category, assignee, resolution)}. "
                f"Assignee: {assignee or 'nobody yet'}. Last update: {_ago(updated)}.{stale}")
        return Reply(text=text, outcome=Outcome.INFO, private=True, ticket_key=key, ticket_url=url)

    @staticmethod
    def _not_yours(key: str) -> Reply:
        return Reply(text=f"I can only show the status of tickets you reported or take part in, "
                          f"and {key} isn't one of them.", outcome=Outcome.INFO, private=True)

    def _my_tickets(self, ctx: TurnContext, *, asked_status: bool = False) -> Reply:
        rows = tickets_of(ctx.session, user_key=ctx.message.user_key, email=ctx.message.email)
        lines = []
        for t in rows:
            lines.append(f"• {t.key or '(queued)'} — “{t.summary}” — "
                         f"{status_words(t.status, t.status_category, t.assignee, t.resolution)}, "
                         f"updated {_ago(t.updated_at)}")
        known = {t.key for t in rows}
        backend = ctx.services.ticketing
        if backend.name == "jira" and ctx.message.email:
            try:
                for r in backend.tickets_of(ctx.message.email, session=ctx.session):
                    if r.key not in known:
                        lines.append(f"• {r.key} — “{r.summary}” — "
                                     f"{status_words(r.status, r.status_category, r.assignee, r.resolution)}, "
                                     f"updated {_ago(r.updated)}")
            except TicketingError as exc:
                log.warning("Jira tickets of the requester unavailable: %s", exc.detail)
        if not lines:
            return Reply(text="You have no tickets with IT. Want to open one?", outcome=Outcome.INFO,
                         private=True, buttons=[Button("Open a ticket", "ticket.open", {"summary": ""})])
        lead = "Which ticket? Here are yours:" if asked_status else "Your tickets:"
        return Reply(text=lead + "\n" + "\n".join(lines[:10]), outcome=Outcome.INFO, private=True)

    # ------------------------------------------------------------------ parsing helpers
    @staticmethod
    def _key_from(ctx: TurnContext) -> str | None:
        if ctx.parse is not None:
            for entity in ctx.parse.entities:
                if entity.entity in KEY_ENTITIES or KEY_RE.fullmatch(str(entity.value)):
                    match = KEY_RE.search(str(entity.value))
                    if match:
                        return f"{match.group(1)}-{match.group(2)}".upper()
                    if str(entity.value).isdigit():
                        return f"{ctx.services.settings.ticketing.key_prefix}-{entity.value}"
        match = KEY_RE.search(ctx.message.text)
        if match:
            return f"{match.group(1)}-{match.group(2)}".upper()
        number = re.search(r"(?:ticket|#)\s*#?(\d{1,7})\b", ctx.message.text, re.I)
        if number:
            return f"{ctx.services.settings.ticketing.key_prefix}-{number.group(1)}"
        return None
