"""Employees' helpful / not helpful ratings of answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge_base.models import KbRating


def record_rating(session: Session, *, question: str, article_id: str | None, helpful: bool, user_key: str,
                  score: float | None = None) -> KbRating:
    """Store one rating in the caller's transaction (the question must already be redacted)."""
    row = KbRating(question=question[:2000], article_id=article_id, helpful=helpful, user_key=user_key, score=score)
    session.add(row)
    return row


def rating_summary(session: Session) -> list[dict[str, Any]]:
    """Per article: helpful and unhelpful counts, worst first (for trainers)."""
    rows = session.execute(
        select(KbRating.article_id, KbRating.helpful, func.count()).group_by(KbRating.article_id, KbRating.helpful)
    ).all()
    per: dict[str | None, dict[str, Any]] = {}
    for aid, helpful, n in rows:
        entry = per.setdefault(aid, {"article_id": aid, "helpful": 0, "not_helpful": 0})
        entry["helpful" if helpful else "not_helpful"] += int(n)
    return sorted(per.values(), key=lambda e: (-e["not_helpful"], e["helpful"]))
