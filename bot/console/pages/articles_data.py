"""What the articles pages show: the list (with views and ratings), the editor's state, previews and diffs."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.messages import Outcome
from bot.storage.models import AnalyticsEvent
from knowledge_base import catalog
from knowledge_base.drafts import Check
from knowledge_base.models import KbDraft
from knowledge_base.ratings import rating_summary

STATUSES = ("published", "draft", "retired")
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def render_markdown(body: str) -> str:
    """The body as HTML for the preview: raw HTML in it is shown as text, unsafe link schemes are dropped.

    Headings go one level down (# → h2), so the preview sits under the editor page's own h1."""
    tokens = _MD.parse(body)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    return str(_MD.renderer.render(tokens, _MD.options, {}))


def answer_views(session: Session) -> dict[str, int]:
    """Per article: how many turns answered with it (trainers' trials are never recorded as turns)."""
    rows = session.execute(select(AnalyticsEvent.top_article_id, func.count())
                           .where(AnalyticsEvent.outcome == Outcome.ANSWERED.value,
                                  AnalyticsEvent.top_article_id.is_not(None))
                           .group_by(AnalyticsEvent.top_article_id)).all()
    return {str(aid): int(n) for aid, n in rows}


def article_rows(session: Session, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Every article (retired too) and every new article that exists only as a draft, for the list."""
    today = today or dt.date.today()
    views = answer_views(session)
    ratings = {r["article_id"]: r for r in rating_summary(session)}
    drafts = {d.article_id: d for d in session.scalars(select(KbDraft))}
    rows = []
    for a in catalog.list_articles(session, include_retired=True):
        r = ratings.get(a["id"], {})
        rows.append({**a, "state": "retired" if a["retired"] else a["status"], "views": views.get(a["id"], 0),
                     "helpful": r.get("helpful", 0), "not_helpful": r.get("not_helpful", 0),
                     "overdue": bool(a["review_by"]) and a["review_by"] < today.isoformat(),
                     "has_draft": a["id"] in drafts, "new": False})
    known = {r["id"] for r in rows}
    for aid, d in drafts.items():
        if aid not in known:
            rows.append({"id": aid, "title": aid, "path": d.path, "state": "draft", "status": "draft",
                         "audience": [], "owner": None, "tags": [], "review_by": None, "version": 0,
                         "retired": False, "views": 0, "helpful": 0, "not_helpful": 0, "overdue": False,
                         "has_draft": True, "new": True, "updated_at": d.updated_at.isoformat(timespec="seconds")})
    return sorted(rows, key=lambda r: r["id"])


def filter_rows(rows: list[dict[str, Any]], q: str, state: str) -> list[dict[str, Any]]:
    """Rows whose id, title, owner or tags contain ``q`` (case-insensitive), in ``state`` ("" = any)."""
    words = q.lower().split()
    out = []
    for r in rows:
        if state and r["state"] != state:
            continue
        hay = " ".join([r["id"], r["title"] or "", r["owner"] or "", *r["tags"]]).lower()
        if all(w in hay for w in words):
            out.append(r)
    return out


def problems_of(check: Check) -> list[dict[str, Any]]:
    """The check's errors and lint findings, each with the text ``helpdesk kb lint`` prints for it."""
    out = [{"kind": "error", "line": e.line, "rule": None, "text": e.message} for e in check.errors]
    out += [{"kind": "finding", "line": f.line, "rule": f.rule, "text": str(f)} for f in check.findings]
    return out


@dataclass
class DiffLine:
    """One row of a unified diff table."""

    kind: str  # same | removed | added
    old: int | None
    new: int | None
    text: str


@dataclass
class Diff:
    """Two versions' texts compared line by line."""

    a: int
    b: int
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(1 for d in self.lines if d.kind != "same")


def diff_versions(a: int, old: str, b: int, new: str, context: int = 3) -> Diff:
    """A unified line diff of ``old`` (version ``a``) → ``new`` (``b``), with ``context`` lines around changes."""
    o, n = old.splitlines(), new.splitlines()
    diff = Diff(a, b)
    for group in difflib.SequenceMatcher(None, o, n, autojunk=False).get_grouped_opcodes(context):
        if diff.lines:
            diff.lines.append(DiffLine("gap", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                diff.lines += [DiffLine("same", i + 1, j1 + k + 1, o[i]) for k, i in enumerate(range(i1, i2))]
                continue
            diff.lines += [DiffLine("removed", i + 1, None, o[i]) for i in range(i1, i2)]
            diff.lines += [DiffLine("added", None, j + 1, n[j]) for j in range(j1, j2)]
    return diff
