"""`helpdesk kb lint`: broken internal links, missing owner, review date passed, duplicate titles, empty sections."""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.problems import Problem
from knowledge_base.markdown import links
from knowledge_base.parser import ParsedArticle, article_id_for
from knowledge_base.structure import parse_sections

RULES = ("broken-link", "missing-owner", "review-overdue", "duplicate-title", "empty-section")


@dataclass(frozen=True)
class Finding(Problem):
    """One lint finding: a :class:`bot.problems.Problem` with the rule that found it."""

    rule: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: rule, path, line, message."""
        return {"rule": self.rule, "path": self.path, "line": self.line, "message": self.message}

    def __str__(self) -> str:
        return f"{self.location}: [{self.rule}] {self.message}"


def _finding(rule: str, path: str, line: int | None, message: str) -> Finding:
    return Finding(path, line, message, rule=rule)


def _known_targets(articles: list[ParsedArticle]) -> set[str]:
    known: set[str] = set()
    for a in articles:
        known.add(a.id)
        known.add(posixpath.basename(a.id))
        if a.id.endswith("/index"):
            known.add(a.id[: -len("/index")])
        for key in ("permalink", "redirect_from"):
            value = a.meta.get(key)
            for v in value if isinstance(value, list) else [value] if value else []:
                known.add(str(v).strip("/"))
    return known


def _internal_target(article: ParsedArticle, target: str, base_url: str | None) -> str | None:
    """The article id a link points to, or None for external / anchor-only links."""
    if base_url and target.startswith(base_url):
        return target[len(base_url):].split("#")[0].strip("/") or None
    if not target or target.startswith(("#", "mailto:", "tel:", "//")) or "://" in target:
        return None
    path = target.split("#")[0].split("?")[0]
    if not path:
        return None
    if path.startswith("/"):
        resolved = path.strip("/")
        if not resolved:  # the site's home page
            return None
    else:
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(article.path), path))
    if resolved.lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".svg", ".pdf", ".csv", ".txt")):
        return None
    return article_id_for(resolved).strip("/")


def lint_articles(articles: Iterable[ParsedArticle], *, today: dt.date | None = None,
                  base_url: str | None = None) -> list[Finding]:
    """Every finding, ordered by file then line."""
    arts = list(articles)
    today = today or dt.date.today()
    known = _known_targets(arts)
    findings: list[Finding] = []
    titles: dict[str, list[ParsedArticle]] = {}
    for a in arts:
        titles.setdefault(a.title.strip().lower(), []).append(a)
        offset = a.body_line - 1
        for target, line in links(a.body):
            aid = _internal_target(a, target, base_url)
            if aid is not None and aid not in known and posixpath.basename(aid) not in known:
                findings.append(_finding("broken-link", a.path, line + offset,
                                        f"link to '{target}' does not match any article."))
        if not a.owner:
            findings.append(_finding("missing-owner", a.path, 1, "no 'owner' in the front matter."))
        if a.review_by and dt.date.fromisoformat(a.review_by) < today:
            findings.append(_finding("review-overdue", a.path, 1, f"review date {a.review_by} has passed."))
        secs = parse_sections(a.body)  # the sections as indexed: setext headings count, '#' in code does not
        for i, sec in enumerate(secs):
            if sec.heading is None:
                continue
            nxt = secs[i + 1] if i + 1 < len(secs) else None
            has_sub = nxt is not None and nxt.level > sec.level
            if not sec.blocks and not has_sub:  # nothing of it would be indexed
                findings.append(_finding("empty-section", a.path, sec.line + offset,
                                        f"section '{sec.heading}' has no text."))
    for group in titles.values():
        if len(group) > 1:
            others = ", ".join(g.path for g in group)
            for a in group:
                findings.append(_finding("duplicate-title", a.path, 1, f"title '{a.title}' is also used by: {others}."))
    return sorted(findings, key=lambda f: (f.path, f.line or 0, f.rule))
