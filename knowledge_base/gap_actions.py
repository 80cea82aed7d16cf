"""What trainers did about a gaps topic: answered it (curated link), wrote an article, added intent examples, dismissed.

A topic (:class:`knowledge_base.gaps.Gap`) is recomputed from the questions on
every look, so an action remembers the *questions* it covered (a short key per
question). A topic whose every question is covered by an action that was not
undone has been dealt with and leaves the inbox; when new questions join it,
it comes back, showing what was done before. A *dismissed* topic sticks: it
comes back only once it has grown materially — at least ``RETURN_QUESTIONS``
questions no action covered, from at least ``RETURN_PEOPLE`` different people
(:func:`has_grown`) — and then shows the dismissal (reason, who, when). A
curated link may cover only some of a topic's questions (the trainer unticks
those that do not belong); the others stay in the inbox. :func:`topics` is the
one list both `helpdesk kb gaps` and the console show. Every action keeps who
did it and when; ``undo_action`` keeps the row and records who undid it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.errors import DataError
from bot.storage.base import Base, minute_stamp, utcnow
from knowledge_base.curated import add_curated, undo_curated
from knowledge_base.gaps import Gap, GapQuestion, shorten

CURATE, ARTICLE, EXAMPLES, DISMISS = "curate", "article", "examples", "dismiss"
KINDS = (CURATE, ARTICLE, EXAMPLES, DISMISS)
MAX_REASON = 500
# A dismissed topic returns only when this many questions no action covered arrived, from this many people.
# One paraphrase used to bring it back at once; two people are needed so nobody alone resurrects a topic.
RETURN_QUESTIONS = 3
RETURN_PEOPLE = 2
RETURN_RULE = f"at least {RETURN_QUESTIONS} new questions from {RETURN_PEOPLE} different people"
# a topic's state: still to deal with, or what was last done about all of its questions
OPEN = "open"
STATES = {CURATE: "curated", ARTICLE: "article", EXAMPLES: "examples", DISMISS: "dismissed"}


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
    """A gaps topic and where it stands; ``earlier`` are the actions that covered some of its questions.

    The figures over its questions are computed once, on first look: :func:`topics` changes only ``state``
    after building a topic, never ``gap`` or ``earlier``.
    """

    key: str
    gap: Gap
    earlier: list[KbGapAction] = field(default_factory=list)
    state: str = OPEN  # "open" (to deal with), or "curated" | "article" | "examples" | "dismissed"

    @cached_property
    def pending(self) -> list[GapQuestion]:
        """Questions no earlier action covered (all of them when nothing was done yet)."""
        covered = {k for a in self.earlier for k in a.question_keys}
        return [q for q in self.gap.questions if question_key(q) not in covered]

    @cached_property
    def new_questions(self) -> int:
        """How many questions no earlier action covered."""
        return len(self.pending)

    @cached_property
    def new_people(self) -> int:
        """How many different people asked those questions."""
        return people(self.pending)

    @property
    def handled(self) -> bool:
        """Dealt with: hidden from the default list."""
        return self.state != OPEN

    @property
    def dismissed_before(self) -> KbGapAction | None:
        """The latest dismissal that still covers some of the topic's questions (shown when the topic returned)."""
        return next((a for a in self.earlier if a.kind == DISMISS), None)

    @cached_property
    def since_dismissal(self) -> list[GapQuestion]:
        """The questions that joined since :attr:`dismissed_before` (none when it was never dismissed)."""
        dismissal = self.dismissed_before
        if dismissal is None:
            return []
        gone = set(dismissal.question_keys)
        return [q for q in self.gap.questions if question_key(q) not in gone]


def question_key(q: GapQuestion) -> str:
    """A short, stable key for one gap question (its kind, moment and text)."""
    raw = f"{q.kind}\0{q.at.isoformat(timespec='seconds')}\0{q.text}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def topic_key(gap: Gap) -> str:
    """A key for a topic as computed now (changes when its questions change)."""
    keys = sorted(question_key(q) for q in gap.questions)
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:12]


def _flat(text: str) -> str:
    return " ".join(text.split())


def unique_questions(gap: Gap) -> list[str]:
    """The topic's distinct question texts, newest first (the order trainers number them in, from 1)."""
    ordered = sorted(gap.questions, key=lambda q: (q.at, q.text), reverse=True)
    return list(dict.fromkeys(_flat(q.text) for q in ordered))


def text_key(text: str) -> str:
    """A short key for one of :func:`unique_questions` (a form's checkbox value)."""
    return hashlib.sha256(_flat(text).encode("utf-8")).hexdigest()[:12]


def numbered(gap: Gap, *, only: Collection[int] = (), leave_out: Collection[int] = ()) -> list[str]:
    """The topic's questions picked by number (1-based, as :func:`unique_questions` orders them).

    ``only``: just these; ``leave_out``: all but these; neither: all. A number
    outside the topic is a DataError naming it.
    """
    texts = unique_questions(gap)
    if only and leave_out:
        raise DataError("Pick questions with --only or leave some out with --except, not both.")
    for n in [*only, *leave_out]:
        if not 1 <= n <= len(texts):
            raise DataError(f"The topic has no question {n}; its questions are numbered 1 to {len(texts)}.")
    if only:
        return [t for i, t in enumerate(texts, 1) if i in set(only)]
    return [t for i, t in enumerate(texts, 1) if i not in set(leave_out)]


def select_questions(gap: Gap, texts: Collection[str] | None) -> Gap:
    """The topic narrowed to the questions with these texts (all of it when ``texts`` is None)."""
    if texts is None:
        return gap
    wanted = {_flat(t) for t in texts}
    stray = sorted(wanted - set(unique_questions(gap)))
    if stray:
        raise DataError(f"“{shorten(stray[0], 80)}” is not one of this topic's questions; look at the topic again.")
    picked = [q for q in gap.questions if _flat(q.text) in wanted]
    if not picked:
        raise DataError("Pick at least one of the topic's questions.")
    return dataclasses.replace(gap, questions=picked)


def active_actions(session: Session) -> list[KbGapAction]:
    """Actions not undone, newest first."""
    stmt = select(KbGapAction).where(KbGapAction.undone_at.is_(None)).order_by(KbGapAction.id.desc())
    return list(session.scalars(stmt))


def recent_actions(session: Session, limit: int = 20) -> list[KbGapAction]:
    """The latest actions, undone ones included, newest first."""
    return list(session.scalars(select(KbGapAction).order_by(KbGapAction.id.desc()).limit(limit)))


def people(questions: Iterable[GapQuestion]) -> int:
    """Different people among the askers (a question whose asker is unknown counts as one more person)."""
    qs = list(questions)
    return len({q.asker for q in qs if q.asker}) + sum(1 for q in qs if not q.asker)


def has_grown(joined: Collection[GapQuestion]) -> bool:
    """Whether the questions that joined a dismissed topic bring it back: :data:`RETURN_RULE`."""
    return len(joined) >= RETURN_QUESTIONS and people(joined) >= RETURN_PEOPLE


def topics(session: Session, gaps: list[Gap], *, include_handled: bool = False) -> list[InboxTopic]:
    """Every topic with its state, in the given order: the list `kb gaps` and the console both show.

    A topic is *open* while a question no active action covered remains, except
    a dismissed one, which stays dismissed until the questions that joined it
    since pass :func:`has_grown` (then it is open, with ``dismissed_before``
    for the history). Otherwise
    its state is what the newest action covering it did. Handled topics are
    left out unless ``include_handled``.
    """
    covered: dict[str, list[KbGapAction]] = {}
    for a in active_actions(session):
        for k in a.question_keys:
            covered.setdefault(k, []).append(a)
    out = []
    for gap in gaps:
        keys = [question_key(q) for q in gap.questions]
        earlier = sorted({a.id: a for k in keys for a in covered.get(k, [])}.values(), key=lambda a: a.id,
                         reverse=True)
        topic = InboxTopic(topic_key(gap), gap, earlier)
        if earlier and not topic.pending:
            topic.state = STATES[earlier[0].kind]
        elif topic.dismissed_before is not None and not has_grown(topic.since_dismissal):
            topic.state = STATES[DISMISS]
        if include_handled or not topic.handled:
            out.append(topic)
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


def curate(session: Session, gap: Gap, *, created_by: str, article_id: str | None = None, answer: str | None = None,
           source: str | None = None, questions: Collection[str] | None = None) -> KbGapAction:
    """Answer the topic with an existing article (or a short approved answer and its source).

    One curated link per question of ``questions`` (texts as
    :func:`unique_questions` gives them; None: every question), and the action
    that records exactly those: the questions left out stay in the inbox, and
    :func:`undo_action` undoes just these links.
    """
    chosen = select_questions(gap, questions)
    texts = unique_questions(chosen)
    ids = add_curated(session, questions=texts, created_by=created_by, article_id=article_id, answer=answer,
                      source=source)
    details: dict[str, Any] = {"article_id": article_id, "curated_ids": ids, "picked": len(texts),
                               "offered": len(unique_questions(gap))}
    if answer is not None:
        details |= {"answer": answer, "source": source}
    return record_action(session, chosen, kind=CURATE, created_by=created_by, details=details)


def dismiss(session: Session, gap: Gap, *, reason: str, created_by: str) -> KbGapAction:
    """Hide the topic until it has grown by :data:`RETURN_RULE`; the reason is required."""
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


def dismissal_note(action: KbGapAction) -> str:
    """How a returned topic's dismissal is shown: the reason, who and when."""
    when = minute_stamp(action.created_at)
    return f"dismissed before: “{(action.details or {}).get('reason', '')}” by {action.created_by}, {when} UTC"


def describe(action: KbGapAction) -> str:
    """One line for trainers: what was done."""
    d = action.details or {}
    if action.kind == CURATE:
        what = f"article {d['article_id']}" if d.get("article_id") else "an approved answer"
        part = f" ({d['picked']} of {d['offered']} questions)" if d.get("picked", 0) < d.get("offered", 0) else ""
        return f"answered with {what}{part}"
    if action.kind == ARTICLE:
        return "a new article is being written"
    if action.kind == EXAMPLES:
        return f"{len(d.get('examples', []))} question(s) added as examples of intent {d.get('intent')}"
    return f"dismissed: {d.get('reason', '')}"


__all__ = ["ARTICLE", "CURATE", "DISMISS", "EXAMPLES", "OPEN", "RETURN_PEOPLE", "RETURN_QUESTIONS", "RETURN_RULE",
           "STATES", "InboxTopic", "KbGapAction", "active_actions", "curate", "describe", "dismiss", "dismissal_note",
           "find_topic", "has_grown", "numbered", "people", "question_key", "record_action",
           "recent_actions", "select_questions", "text_key", "topic_key", "topics", "undo_action",
           "unique_questions"]
