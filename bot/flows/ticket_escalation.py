"""Escalation: how any flow hands an employee's request to IT staff (a ticket), with the duplicate check.

The ticket's description is drafted from the conversation: the employee's words,
the transcript of this conversation, the articles the bot already suggested and
the requester's directory details.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import select

from bot.encoding import EncoderProvider, TextEncoder
from bot.errors import HelpdeskError, InvalidInputError
from bot.flows.base import TurnContext
from bot.flows.ticket_request import RequestWindow, request_window
from bot.messages import Button, Outcome, Reply
from bot.storage.base import utcnow
from bot.storage.models import AnalyticsEvent
from integrations.ticketing.base import IDEM_LABEL_PREFIX, TicketingBackend
from integrations.ticketing.drafting import TicketRequest, normalise_urgency
from integrations.ticketing.duplicates import find_duplicate
from integrations.ticketing.models import Ticket
from integrations.ticketing.notices import TicketNoticeSink
from integrations.ticketing.service import new_idem_key, open_ticket, open_tickets_of
from integrations.ticketing.settings import TicketingSettings
from integrations.ticketing.texts import status_words

log = logging.getLogger(__name__)

# extra keys a button or form may carry (its value is forged easily); other keys ("Details from
# the bot") only come from code calling ``escalate``
BUTTON_EXTRA_KEYS = ("articles_suggested", "articles_unhelpful")
ARTICLE_FIELDS = ("article_id", "title", "url")
NOT_A_CATEGORY = {"greet", "goodbye", "thanks", "bot_capabilities", "affirm", "deny", "out_of_scope",
                  "open_ticket", "talk_to_human", "ticket_status", "my_tickets"}


class PersonDirectory(Protocol):
    """What escalation needs from the directory: the requester's details for IT."""

    def person_details(self, email: str) -> dict[str, Any] | None:
        """Department, title, location and manager of the person with this e-mail (None: unknown)."""
        ...


TicketingProvider = Callable[[], TicketingBackend]
DirectoryProvider = Callable[[], PersonDirectory | None]
LoadedEncoderProvider = Callable[[], TextEncoder | None]


def clean(ctx: TurnContext, value: Any, limit: int = 3000) -> str:
    """The employee's text with secrets masked (before it is kept anywhere), then shortened."""
    return ctx.redact(str(value or "")).strip()[:limit]


IDEM_KEY_RE = re.compile(re.escape(IDEM_LABEL_PREFIX) + r"[0-9a-f]{32}")  # service.stable_idem_key


def _stable_idem_key(value: Any) -> str | None:
    """A surface's own idempotency key for a request (``extra["_idem_key"]``), when well-formed."""
    return value if isinstance(value, str) and IDEM_KEY_RE.fullmatch(value) else None


def _opened_reply(ticket: Ticket) -> Reply:
    """What the employee hears once their ticket is opened (or queued for Jira)."""
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


def button_extra(value: Any) -> dict[str, Any]:
    """The whitelisted part of an ``extra`` from a button value: article lists, plain strings only."""
    if not isinstance(value, dict):
        return {}
    out: dict[str, Any] = {}
    for key in BUTTON_EXTRA_KEYS:
        items = value.get(key)
        if isinstance(items, list):
            out[key] = [a for a in (_article(item) for item in items[:10]) if a]
    return out


def _article(item: Any) -> dict[str, str] | None:
    if isinstance(item, str):
        item = {"article_id": item}
    if not isinstance(item, dict):
        return None
    article = {f: str(item[f])[:300] for f in ARTICLE_FIELDS if isinstance(item.get(f), (str, int))}
    url = article.get("url")
    if url and not url.startswith(("https://", "http://")):
        article.pop("url")
    return article if article.get("article_id") or article.get("title") else None


def category_of(value: Any) -> str:
    """A category from a button value: a short identifier, else "general"."""
    text = str(value or "").strip()
    return text if re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", text) else "general"


def recent_intent(ctx: TurnContext) -> str | None:
    """The topic of the employee's latest question (for a ticket opened from an answer's button)."""
    since = utcnow() - dt.timedelta(hours=2)
    for intent in ctx.session.scalars(select(AnalyticsEvent.intent).where(
            AnalyticsEvent.user_key == ctx.message.user_key, AnalyticsEvent.created_at >= since,
            AnalyticsEvent.intent.is_not(None)).order_by(AnalyticsEvent.id.desc()).limit(5)):
        if intent not in NOT_A_CATEGORY:
            return intent
    return None


def words(t: Ticket) -> str:
    """A ticket's state in plain words."""
    return status_words(t.status, t.status_category, t.assignee, t.resolution)


class Escalation:
    """Opens tickets for a turn: the one way any flow hands a request to IT."""

    def __init__(self, *, ticketing: TicketingProvider, directory: DirectoryProvider, encoder: EncoderProvider,
                 loaded_encoder: LoadedEncoderProvider, settings: TicketingSettings,
                 notices: TicketNoticeSink) -> None:
        self._ticketing = ticketing
        self._directory = directory
        self._encoder = encoder
        self._loaded_encoder = loaded_encoder
        self.settings = settings
        self.notices = notices

    def escalate(self, ctx: TurnContext, *, summary: str, details: str, category: str, urgency: str = "normal",
                 extra: dict[str, Any] | None = None, check_duplicates: bool = True) -> Reply:
        """Hand the employee's request to IT: ticket row + outbox in the turn's transaction.

        Local queue: the reply carries the key at once. Jira: the reply says the ticket
        is queued; the key follows as a notification when the worker has created it.
        When the employee already has an open ticket that looks like the same problem
        (and ``check_duplicates``), the reply offers to add a comment to it instead.
        """
        extra = dict(extra or {})
        summary = clean(ctx, summary, 500) or clean(ctx, details, 200)
        details = clean(ctx, details)
        if not summary:
            raise InvalidInputError("Please tell me briefly what the problem is, so IT can help.")
        idem_key = _stable_idem_key(extra.pop("_idem_key", None))
        if idem_key is not None:  # a surface's retried request (e.g. after a crash): its ticket, never a second
            done = ctx.session.scalar(select(Ticket).where(Ticket.idem_key == idem_key))
            if done is not None and done.requester_user_key == ctx.message.user_key:
                ctx.finish()
                return _opened_reply(done)
            if done is not None:
                idem_key = None  # someone else's key: ignored
        if check_duplicates and not extra.pop("_force", False):
            dup = self._duplicate_of(ctx, f"{summary}. {details}")
            if dup is not None:
                return _duplicate_reply(dup, summary=summary, details=details, category=category,
                                        urgency=urgency, extra=extra)
        window = request_window(ctx, max_lines=self.settings.transcript_lines)
        window.add_current(ctx)
        if window.topic and (category in NOT_A_CATEGORY or category == "general"):
            category = window.topic  # the request's intent beats "talk_to_human" / "open_ticket"
        req = self._request(ctx, window, summary=summary, details=details, category=category, urgency=urgency,
                            extra=extra)
        if idem_key is not None:
            req.idem_key = idem_key
        ticket = open_ticket(ctx.session, self.settings, self._ticketing(), req, sink=self.notices,
                             secrets=ctx.secrets)
        ctx.finish()
        return _opened_reply(ticket)

    def _request(self, ctx: TurnContext, window: RequestWindow, *, summary: str, details: str, category: str,
                 urgency: str, extra: dict[str, Any]) -> TicketRequest:
        message = ctx.message
        suggested, unhelpful = _articles(window, extra)
        return TicketRequest(
            idem_key=new_idem_key(), summary=summary, details=details or summary,
            category=category or "general", urgency=normalise_urgency(urgency),
            requester_user_key=message.user_key, requester_email=message.email,
            requester_name=message.display_name,
            intent=ctx.parse.intent.name if ctx.parse else None,
            confidence=float(ctx.parse.intent.confidence) if ctx.parse else None,
            transcript=window.lines, articles_suggested=suggested, articles_unhelpful=unhelpful,
            person=self._person(ctx), extra=extra,
            employee_words=[w for w in dict.fromkeys(window.words)
                            if w.lower() not in (details or summary).lower()],
        )

    def _person(self, ctx: TurnContext) -> dict[str, Any] | None:
        email = ctx.message.email
        if not email:
            return None
        try:
            directory = self._directory()
            if directory is None:
                return None
            return directory.person_details(email)
        except Exception as exc:  # noqa: BLE001 - a directory outage must never lose the escalation
            detail = exc.detail if isinstance(exc, HelpdeskError) else type(exc).__name__
            log.warning("directory details unavailable for the ticket: %s", detail)
            return None

    def _duplicate_of(self, ctx: TurnContext, text: str) -> tuple[Ticket, float] | None:
        cfg = self.settings
        if cfg.duplicate_method == "off":
            return None
        candidates = open_tickets_of(ctx.session, user_key=ctx.message.user_key, email=ctx.message.email)
        if not candidates:
            return None
        encoder: TextEncoder | None = None
        if cfg.duplicate_method == "embedding":
            encoder = self._encoder()
        elif cfg.duplicate_method == "auto":  # the encoder only when it is loaded already
            encoder = self._loaded_encoder()
        return find_duplicate(text, candidates, encoder=encoder,
                              embedding_threshold=cfg.duplicate_embedding_threshold,
                              token_threshold=cfg.duplicate_token_threshold)


def _articles(window: RequestWindow, extra: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Articles tried for this request (its answers + the caller's list) and those rated unhelpful."""
    def norm(items: Any) -> list[dict[str, Any]]:
        return [item if isinstance(item, dict) else {"article_id": str(item)} for item in items or []]

    suggested = norm(extra.pop("articles_suggested", None))
    unhelpful = norm(extra.pop("articles_unhelpful", None))
    known = {a.get("article_id") for a in suggested}
    for article_id in window.articles:
        if article_id not in known:
            suggested.append({"article_id": article_id})
    return suggested, unhelpful


def _duplicate_reply(dup: tuple[Ticket, float], *, summary: str, details: str, category: str,
                     urgency: str, extra: dict[str, Any]) -> Reply:
    ticket, _score = dup
    name = ticket.key or "your queued ticket"
    draft = {"summary": summary, "details": details[:1500], "urgency": urgency, "category": category}
    return Reply(
        text=(f"You already have an open ticket that looks like the same problem: {name} "
              f"“{ticket.summary}” ({words(ticket)}). "
              "Shall I add what you wrote to it as a comment instead?"),
        outcome=Outcome.COLLECTING, private=True, ticket_key=ticket.key, ticket_url=ticket.url,
        buttons=[
            Button(f"Add to {name}", "ticket.comment_existing",
                   {"ticket_id": ticket.id, "key": ticket.key, **draft}, style="primary"),
            Button("Open a new ticket", "ticket.submit", {**draft, "force": True, "extra": extra}),
        ])
