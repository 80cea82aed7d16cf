"""Turn an employee's request into a well-formed ticket: routing, priority, description."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.redact import redact
from integrations.ticketing.base import URGENCIES, TicketDraft
from integrations.ticketing.settings import TicketingSettings

SUMMARY_MAX = 240


@dataclass
class TicketRequest:
    """Everything known about an escalation, before it is rendered for IT staff."""

    idem_key: str
    summary: str
    details: str
    category: str
    urgency: str = "normal"
    requester_user_key: str = ""
    requester_email: str | None = None
    requester_name: str | None = None
    intent: str | None = None
    confidence: float | None = None
    transcript: list[tuple[str, str, str]] = field(default_factory=list)  # (time, speaker, text)
    articles_suggested: list[dict[str, Any]] = field(default_factory=list)
    articles_unhelpful: list[dict[str, Any]] = field(default_factory=list)
    person: dict[str, Any] | None = None  # directory details
    extra: dict[str, Any] = field(default_factory=dict)
    # what the employee typed during this request that ``details`` does not already contain
    employee_words: list[str] = field(default_factory=list)


def normalise_urgency(value: str | None) -> str:
    """One of URGENCIES for what a person or a tracker calls an urgency ("normal" when unknown)."""
    value = (value or "normal").strip().lower()
    aliases = {"medium": "normal", "urgent": "high", "blocker": "critical", "highest": "critical",
               "lowest": "low", "minor": "low"}
    value = aliases.get(value, value)
    return value if value in URGENCIES else "normal"


def clean_summary(text: str) -> str:
    """One line of at most SUMMARY_MAX characters (a default when empty)."""
    text = " ".join(text.split()) or "Help requested via the helpdesk bot"
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def category_label(category: str) -> str:
    """The tracker label that carries a ticket's category (``category-vpn_issue``)."""
    return "category-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in category.lower())


def route(settings: TicketingSettings, category: str) -> tuple[str, str, list[str], list[str]]:
    """(project, issue type, components, labels) for a category/intent, from configuration."""
    jira = settings.jira
    r = jira.intent_routes.get(category)
    project = (r.project if r and r.project else None) or jira.project
    issue_type = (r.issue_type if r and r.issue_type else None) or jira.issue_type
    components = list(dict.fromkeys([*jira.components, *(r.components if r else [])]))
    labels = list(dict.fromkeys([*jira.labels, category_label(category), *(r.labels if r else [])]))
    return project, issue_type, components, labels


def _article_line(a: dict[str, Any]) -> str:
    title = a.get("title") or a.get("article_id") or "article"
    url = a.get("url")
    return f"- {title} ({url})" if url else f"- {title}"


def describe(req: TicketRequest, secrets: Iterable[str]) -> str:
    """The ticket body IT staff read: the employee's words first, then context."""
    secrets = tuple(secrets)

    def r(text: object) -> str:
        return redact(str(text), secrets)

    lines = ["*What the employee wrote*", r(req.details or req.summary)]
    lines += [f"> {r(words)}" for words in req.employee_words]
    lines.append("")
    who = req.requester_name or req.requester_email or req.requester_user_key
    lines.append("*Requester*")
    lines.append(f"- {r(who)}" + (f" <{req.requester_email}>" if req.requester_email else ""))
    lines.append(f"- chat: {req.requester_user_key}")
    if req.person:
        for label in ("department", "title", "location", "manager"):
            if req.person.get(label):
                lines.append(f"- {label}: {r(req.person[label])}")
    lines += ["", "*Classification*", f"- category: {req.category}"]
    if req.intent:
        conf = f" (confidence {req.confidence:.2f})" if req.confidence is not None else ""
        lines.append(f"- detected intent: {req.intent}{conf}")
    lines.append(f"- urgency: {req.urgency}")
    if req.articles_suggested or req.articles_unhelpful:
        lines += ["", "*Articles the bot already suggested*"]
        lines += [_article_line(a) for a in req.articles_suggested] or ["- (none)"]
        if req.articles_unhelpful:
            lines += ["", "*Rated unhelpful by the employee*"]
            lines += [_article_line(a) for a in req.articles_unhelpful]
    shown_extra = {k: v for k, v in req.extra.items() if not k.startswith("_")
                   and k not in ("articles_suggested", "articles_unhelpful")}
    if shown_extra:
        lines += ["", "*Details from the bot*"]
        lines += [f"- {k}: {r(v)}" for k, v in shown_extra.items()]
    if req.transcript:
        lines += ["", "*Conversation (secrets redacted)*"]
        lines += [f"[{t}] {speaker}: {r(text)}" for t, speaker, text in req.transcript]
    lines += ["", f"Opened by the helpdesk bot · ref {req.idem_key}"]
    return "\n".join(lines)


def build_draft(settings: TicketingSettings, req: TicketRequest, *, secrets: Iterable[str] = ()) -> TicketDraft:
    """The ticket as IT staff will see it: routed, prioritised, ``secrets`` masked."""
    secrets = tuple(secrets)
    project, issue_type, components, labels = route(settings, req.category)
    urgency = normalise_urgency(req.urgency)
    priority = settings.jira.priority_map.get(urgency)
    return TicketDraft(
        idem_key=req.idem_key,
        summary=clean_summary(redact(req.summary, secrets)),
        description=describe(req, secrets),
        project=project, issue_type=issue_type, priority=priority,
        components=components, labels=[*labels, req.idem_key],
        requester_email=req.requester_email, requester_name=req.requester_name,
    )
