"""What trainers did about a gaps topic: answered it (curated link), wrote an article, added intent examples, dismissed.

A topic (:class:`knowledge_base.gaps.Gap`) is recomputed from the questions on
every look, so an action remembers the *questions* it covered (a short key per
question). A topic whose every question is covered by an action that was not
undone has been dealt with and leaves the inbox; when new questions join it,
it comes back, showing what was done before. Every action keeps who did it and
when; ``undo_action`` keeps the row and records who undid it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.errors import DataError
from bot.storage.base import Base, utcnow
from knowledge_base.curated import add_curated, undo_curated
from knowledge_base.gaps import Gap, GapQuestion, shorten

CURATE, ARTICLE, EXAMPLES, DISMISS = "curate", "article", "examples", "dismiss"
KINDS = (CURATE, ARTICLE, EXAMPLES, DISMISS)
MAX_REASON = 500


class KbGapAction(Base):
    """One trainer action on a gaps topic, with the questions it covered."""

    __tablename__ = "kb_gap_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # curate | article | examples | dismiss
    label: Mapped[str] = mapped_column(Text)  # the topic's label when the action was taken
    question_keys: Mapped[list[str]] = mapped_column(JSON)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    undone_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True, index=True)


@dataclass
class InboxTopic:
    """A gaps topic still to deal with; ``earlier`` are the actions that covered some of its questions."""

    key: str
    gap: Gap
    earlier: list[KbGapAction] = field(default_factory=list)

    @property
    def new_questions(self) -> int:
        """Questions no earlier action covered (all of them when nothing was done yet)."""
        covered = {k for a in self.earlier for k in a.question_keys}
        return sum(1 for q in self.gap.questions if question_key(q) not in covered)


def question_key(q: GapQuestion) -> str:
    """A short, stable key for one gap question (its kind, moment and text)."""
    raw = f"{q.kind}\0{q.at.isoformat(timespec='seconds')}\0{q.text}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def topic_key(gap: Gap) -> str:
    """A key for a topic as computed now (changes when its questions change)."""
    keys = sorted(question_key(q) for q in gap.questions)
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:12]


def unique_questions(gap: Gap) -> list[str]:
    """The topic's distinct question texts, newest first."""
    ordered = sorted(gap.questions, key=lambda q: q.at, reverse=True)
    return list(dict.fromkeys(" ".join(q.text.split()) for q in ordered))


def active_actions(session: Session) -> list[KbGapAction]:
    """Actions not undone, newest first."""
    stmt = select(KbGapAction).where(KbGapAction.undone_at.is_(None)).order_by(KbGapAction.id.desc())
    return list(session.scalars(stmt))


def recent_actions(session: Session, limit: int = 20) -> list[KbGapAction]:
    """The latest actions, undone ones included, newest first."""
    return list(session.scalars(select(KbGapAction).order_by(KbGapAction.id.desc()).limit(limit)))


def inbox(session: Session, gaps: list[Gap]) -> list[InboxTopic]:
    """The topics still to deal with (in the given order): those with a question no active action covered."""
    actions = active_actions(session)
    covered: dict[str, list[KbGapAction]] = {}
    for a in actions:
        for k in a.question_keys:
            covered.setdefault(k, []).append(a)
    out = []
    for gap in gaps:
        keys = [question_key(q) for q in gap.questions]
        if keys and all(k in covered for k in keys):
            continue
        earlier = list({a.id: a for k in keys for a in covered.get(k, [])}.values())
        out.append(InboxTopic(topic_key(gap), gap, sorted(earlier, key=lambda a: a.id, reverse=True)))
    return out


def find_topic(gaps: list[Gap], key: str) -> Gap:
    """The topic with ``key`` among ``gaps``; DataError when the inbox changed since the page was shown."""
    for gap in gaps:
        if topic_key(gap) == key:
            return gap
    raise DataError("That topic changed since the page was shown (new questions arrived); look at it again.")


def record_action(session: Session, gap: Gap, *, kind: str, created_by: str,
                  details: dict[str, Any] | None = None) -> KbGapAction:
    """Store that ``created_by`` dealt with ``gap`` this way (its questions leave the inbox)."""
    if kind not in KINDS:
        raise DataError(f"Unknown gaps action '{kind}'.")
    row = KbGapAction(kind=kind, label=shorten(gap.label), question_keys=[question_key(q) for q in gap.questions],
                      details=dict(details or {}), created_by=created_by, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def curate(session: Session, gap: Gap, *, article_id: str, created_by: str) -> KbGapAction:
    """Answer the topic with an existing article: a curated link per question, and the action that records it."""
    ids = add_curated(session, questions=unique_questions(gap), created_by=created_by, article_id=article_id)
    return record_action(session, gap, kind=CURATE, created_by=created_by,
                         details={"article_id": article_id, "curated_ids": ids})


def dismiss(session: Session, gap: Gap, *, reason: str, created_by: str) -> KbGapAction:
    """Hide the topic until new questions arrive; the reason is required."""
    reason = " ".join(reason.split())
    if not reason:
        raise DataError("Say why the topic is dismissed (the reason field).")
    if len(reason) > MAX_REASON:
        raise DataError(f"The reason is at most {MAX_REASON} characters.")
    return record_action(session, gap, kind=DISMISS, created_by=created_by, details={"reason": reason})


def undo_action(session: Session, action_id: int, *, undone_by: str) -> KbGapAction:
    """Undo an action: its topic returns to the inbox; a curated link stops applying.

    Side effects outside this library (intent examples written to files) are the
    caller's to revert, from ``details``.
    """
    row = session.get(KbGapAction, action_id)
    if row is None or row.undone_at is not None:
        raise DataError(f"No active gaps action {action_id}: it was undone already or never existed.")
    if row.kind == CURATE:
        for entry in row.details.get("curated_ids", []):
            try:
                undo_curated(session, int(entry), undone_by=undone_by)
            except DataError:
                pass  # that curated entry was undone on its own (`kb curate undo`)
    row.undone_at, row.undone_by = utcnow(), undone_by
    return row


def describe(action: KbGapAction) -> str:
    """One line for trainers: what was done."""
    d = action.details or {}
    if action.kind == CURATE:
        return f"answered with article {d.get('article_id')}"
    if action.kind == ARTICLE:
        return "a new article is being written"
    if action.kind == EXAMPLES:
        return f"{len(d.get('examples', []))} question(s) added as examples of intent {d.get('intent')}"
    return f"dismissed: {d.get('reason', '')}"


__all__ = ["ARTICLE", "CURATE", "DISMISS", "EXAMPLES", "InboxTopic", "KbGapAction", "active_actions", "curate",
           "describe", "dismiss", "find_topic", "inbox", "question_key", "record_action", "recent_actions",
           "topic_key", "undo_action", "unique_questions"]
