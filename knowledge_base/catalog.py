"""Trainers' views of the stored articles: list, show, history, and the live articles parsed for lint."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import DataError
from knowledge_base.models import KbArticle, KbArticleVersion
from knowledge_base.parser import ParsedArticle, parse_article
from knowledge_base.store import latest_version


def article_dict(a: KbArticle) -> dict[str, Any]:
    """One article's metadata, JSON-ready."""
    return {"id": a.id, "title": a.title, "path": a.path, "status": a.status, "audience": a.audience or [],
            "owner": a.owner, "tags": a.tags or [], "review_by": a.review_by, "version": a.current_version,
            "retired": a.retired, "updated_at": a.updated_at.isoformat(timespec="seconds")}


def list_articles(session: Session, *, include_retired: bool = False) -> list[dict[str, Any]]:
    """Every (live) article's metadata, by id."""
    stmt = select(KbArticle).order_by(KbArticle.id)
    if not include_retired:
        stmt = stmt.where(KbArticle.retired.is_(False))
    return [article_dict(a) for a in session.scalars(stmt)]


def show_article(session: Session, article_id: str, version: int | None = None) -> dict[str, Any]:
    """An article's metadata and the file text of one version (the latest by default)."""
    art = session.get(KbArticle, article_id)
    if art is None:
        raise DataError(f"No article with id '{article_id}'; `helpdesk kb list` shows the ids.")
    if version:
        ver = session.scalars(select(KbArticleVersion).where(KbArticleVersion.article_id == article_id,
                                                              KbArticleVersion.version == version)).first()
    else:
        ver = latest_version(session, article_id)
    if ver is None:
        raise DataError(f"Article '{article_id}' has no version {version}.")
    return {**article_dict(art), "shown_version": ver.version, "change": ver.change, "text": ver.raw_text}


def article_history(session: Session, article_id: str) -> list[dict[str, Any]]:
    """Every version of an article, oldest first: when, what changed, from where."""
    rows = [{"version": v.version, "change": v.change, "at": v.created_at.isoformat(timespec="seconds"),
             "title": v.meta.get("_title"), "path": v.path, "source": v.source, "hash": v.content_hash[:12]}
            for v in session.scalars(select(KbArticleVersion).where(KbArticleVersion.article_id == article_id)
                                     .order_by(KbArticleVersion.version))]
    if not rows:
        raise DataError(f"No article with id '{article_id}'; `helpdesk kb list --all` shows the ids.")
    return rows


def current_articles(session: Session) -> list[ParsedArticle]:
    """Every live article, parsed from its latest version's text (for lint); unparsable ones are skipped."""
    out = []
    for row in session.scalars(select(KbArticle).where(KbArticle.retired.is_(False))).all():
        ver = latest_version(session, row.id)
        if ver is not None:
            try:
                out.append(parse_article(ver.raw_text, row.path))
            except DataError:
                continue
    return out
