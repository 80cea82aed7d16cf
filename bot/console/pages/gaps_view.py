"""The gaps inbox's data: topics still to deal with (the list `helpdesk kb gaps` shows) and recent actions."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from bot.kb_gaps import DEFAULT_DAYS
from bot.services import Services
from bot.storage.base import minute_stamp
from knowledge_base import gap_actions as ga
from knowledge_base.gaps import Gap, shorten

SORTS = {"size": "largest first", "newest": "newest first"}
DAY_CHOICES = (7, 30, 90, 365)
SHOWN_EXAMPLES = 5
PAGE_TOPICS = 25  # topics per page ("Show more" adds as many)
MAX_TOPICS = 500
PICKABLE = 20  # questions offered as intent examples, newest first
MAX_EXAMPLE = 300
# the article editor's query parameters for the questions (the contract says "questions"; the editor reads
# "question" today: both are sent until one is dropped)
QUESTION_PARAMS = ("questions", "question")
EDITOR_QUESTIONS = 10


def parse_days(raw: str | None) -> int:
    """The look-back period from a query/form value (one of the offered choices)."""
    try:
        days = int(raw or DEFAULT_DAYS)
    except ValueError:
        return DEFAULT_DAYS
    return days if days in DAY_CHOICES else DEFAULT_DAYS


def parse_top(raw: str | None) -> int:
    """How many topics to show (a multiple of :data:`PAGE_TOPICS`, at most :data:`MAX_TOPICS`)."""
    try:
        top = int(raw or PAGE_TOPICS)
    except ValueError:
        return PAGE_TOPICS
    return min(max(PAGE_TOPICS, top - top % PAGE_TOPICS), MAX_TOPICS)


def inbox_rows(session: Session, gaps: list[Gap], sort: str, *, include_handled: bool = False) -> list[dict[str, Any]]:
    """The topics as template rows (largest first, or newest first), built by `kb gaps`'s own list
    (:func:`knowledge_base.gap_actions.topics`): those still to deal with, and the handled ones when asked."""
    topics = ga.topics(session, gaps, include_handled=include_handled)
    if sort == "newest":
        topics.sort(key=lambda t: (-t.gap.newest.timestamp(), -t.gap.count))
    rows = []
    for topic in topics:
        d = topic.gap.to_dict(examples=SHOWN_EXAMPLES)
        questions = ga.unique_questions(topic.gap)
        dismissal = topic.dismissed_before if not topic.handled else None
        rows.append({
            "key": topic.key, "topic": d["topic"], "count": d["count"], "declined": d["declined"],
            "unhelpful": d["unhelpful"], "newest": d["newest"].replace("T", " "), "examples": d["examples"],
            "nearest_article": d["nearest_article"], "nearest_title": d["nearest_title"],
            "nearest_score": d["nearest_score"], "state": topic.state, "handled": topic.handled,
            "pickable": [q for q in questions if len(q) <= MAX_EXAMPLE][:PICKABLE],
            # the curated link's checkboxes: every question, ticked; the value is a short key of its text
            "curatable": [(ga.text_key(q), shorten(q)) for q in questions],
            "dismissed": None if dismissal is None else {
                "reason": dismissal.details.get("reason", ""), "by": dismissal.created_by,
                "at": minute_stamp(dismissal.created_at), "joined": len(topic.since_dismissal),
                "people": ga.people(topic.since_dismissal)},
            "earlier": [{"what": ga.describe(a), "by": a.created_by, "at": minute_stamp(a.created_at)}
                        for a in topic.earlier if a is not dismissal],
            "new_questions": topic.new_questions,
        })
    return rows


def picked_questions(gap: Gap, keys: list[str]) -> list[str]:
    """The topic's questions whose checkbox (:func:`knowledge_base.gap_actions.text_key`) was ticked."""
    ticked = set(keys)
    return [q for q in ga.unique_questions(gap) if ga.text_key(q) in ticked]


def action_rows(session: Session) -> list[dict[str, Any]]:
    """The latest actions (undone ones included) for the "Recent actions" table."""
    return [{"id": a.id, "kind": a.kind, "what": ga.describe(a), "topic": a.label, "by": a.created_by,
             "at": minute_stamp(a.created_at),
             "undone": f"undone by {a.undone_by} {minute_stamp(a.undone_at)}" if a.undone_at else None}
            for a in ga.recent_actions(session)]


def article_choices(services: Services) -> list[tuple[str, str]]:
    """Live articles as (id, "title (id)") for the "answer with an existing article" picker."""
    rows = [r for r in services.kb.list_articles() if not r.get("retired")]
    return sorted(((r["id"], f"{r['title']} ({r['id']})" + (" — draft" if r.get("status") == "draft" else ""))
                   for r in rows), key=lambda c: c[1].lower())


def editor_url(gap: Gap) -> str:
    """The article editor (/console/articles/new) pre-filled with the topic's questions and a title."""
    questions = [shorten(q) for q in ga.unique_questions(gap)][:EDITOR_QUESTIONS]
    params: list[tuple[str, str]] = [("title", suggested_title(gap))]
    for name in QUESTION_PARAMS:
        params += [(name, q) for q in questions]
    return "/console/articles/new?" + urlencode(params)


def suggested_title(gap: Gap) -> str:
    """A title suggestion: the topic's label, capitalised, without a trailing question mark."""
    label = shorten(gap.label, 80).rstrip(" ?.!")
    return label[:1].upper() + label[1:]


__all__ = ["DAY_CHOICES", "QUESTION_PARAMS", "SORTS", "action_rows", "article_choices", "editor_url", "inbox_rows",
           "parse_days", "parse_top", "picked_questions", "suggested_title"]
