"""Editing stored articles: drafts, validation as ``kb lint`` reports it, publish / unpublish / retire / restore.

A *draft* is a trainer's working copy in ``kb_draft``: never indexed, never
served, never exported. *Publishing* stores its text as a new version (the same
path ``kb import`` takes, so the live index picks it up at once); unpublishing stores
a version whose front matter says ``status: draft`` (kept, exported, not served).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.errors import DataError
from bot.problems import Problem
from bot.storage.base import utcnow
from knowledge_base.article_file import with_status
from knowledge_base.lint import Finding, lint_articles
from knowledge_base.models import KbArticle, KbDraft
from knowledge_base.parser import ParsedArticle, article_id_for, parse_article
from knowledge_base.store import ImportSummary, clear_chunks, latest_version, retire

if TYPE_CHECKING:
    from knowledge_base.service import KnowledgeBase

SOURCE = "console"
_PATH = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*\.md$")


@dataclass
class Check:
    """A file text checked as ``kb import`` and ``kb lint`` would: errors block publishing, findings do not."""

    parsed: ParsedArticle | None
    errors: list[Problem] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.parsed is not None


def valid_path(path: str) -> str:
    """A new article's path (``network/vpn.md``): lower-case words, folders, ``.md``; DataError names the field."""
    path = path.strip().strip("/")
    if not _PATH.match(path):
        raise DataError("'path' must look like folder/name.md (lower-case letters, digits, - and _).")
    return path


def check_text(text: str, path: str, others: list[ParsedArticle], *, base_url: str | None = None,
               today: dt.date | None = None) -> Check:
    """Parse ``text`` and lint it among ``others`` (the other live articles): the rules of ``kb lint``."""
    try:
        parsed = parse_article(text, path)
    except DataError as exc:
        return Check(None, [Problem(exc.path or path, exc.line, exc.user_message)])
    aid = parsed.id
    findings = lint_articles([*(a for a in others if a.id != aid), parsed], today=today, base_url=base_url)
    return Check(parsed, findings=[f for f in findings if f.path == path])


# --- drafts -------------------------------------------------------------------------
def get_draft(session: Session, article_id: str) -> KbDraft | None:
    """The working copy of an article, if a trainer saved one."""
    return session.get(KbDraft, article_id)


def save_draft(session: Session, *, article_id: str, path: str, text: str, actor: str,
               base_version: int | None) -> KbDraft:
    """Keep ``text`` as the article's working copy (replacing an older one); it may not parse yet."""
    row = session.get(KbDraft, article_id)
    if row is None:
        row = KbDraft(article_id=article_id, base_version=base_version)
        session.add(row)
    row.path, row.raw_text, row.updated_by, row.updated_at = path, text, actor[:200], utcnow()
    if row.base_version is None:
        row.base_version = base_version
    return row


def discard_draft(session: Session, article_id: str) -> bool:
    """Drop the working copy; True when there was one."""
    row = session.get(KbDraft, article_id)
    if row is None:
        return False
    session.delete(row)
    return True


# --- versions that change what employees get -------------------------------------------------
def _stored(kb: KnowledgeBase, article_id: str) -> KbArticle | None:
    with kb.db.session() as s:
        return s.get(KbArticle, article_id)


def store_text(kb: KnowledgeBase, *, path: str, text: str, base_version: int | None,
               force: bool = False) -> ImportSummary:
    """Store ``text`` as the article's next version (at once in the live index when it is published).

    DataError (with the file line) when the text does not parse; also when the article changed
    since ``base_version`` (someone imported or published meanwhile) unless ``force``.
    """
    parsed = parse_article(text, path)
    row = _stored(kb, parsed.id)
    if row is not None and not force and base_version is not None and row.current_version != base_version:
        raise DataError(f"'{parsed.id}' changed since you opened it (now version {row.current_version}, "
                        f"you edited version {base_version}): compare the versions, then publish again.")
    if row is not None and base_version is None and not force:
        raise DataError(f"'path': an article '{parsed.id}' already exists; open it from the list instead.")
    summary = kb.importer.import_articles([parsed], source=SOURCE)
    with kb.db.session() as s:
        discard_draft(s, parsed.id)
    return summary


def publish(kb: KnowledgeBase, *, path: str, text: str, base_version: int | None,
            force: bool = False) -> ImportSummary:
    """Store ``text`` as a published version (a ``status: draft`` in it becomes ``published``)."""
    parsed = parse_article(text, path)
    if parsed.status != "published":
        text = with_status(text, "published", path)
    return store_text(kb, path=path, text=text, base_version=base_version, force=force)


def unpublish(kb: KnowledgeBase, article_id: str) -> ImportSummary:
    """Take a published article out of answers by storing a version marked ``status: draft``."""
    with kb.db.session() as s:
        row = s.get(KbArticle, article_id)
        ver = latest_version(s, article_id)
        if row is None or ver is None or row.retired:
            raise DataError(f"No live article with id '{article_id}'.")
        text, path, version = ver.raw_text, row.path, row.current_version
    return store_text(kb, path=path, text=with_status(text, "draft", path), base_version=version)


def retire_article(kb: KnowledgeBase, article_id: str) -> int:
    """Retire a live article: out of answers at once, its history kept. Returns the new version number."""
    with kb.db.session() as s:
        row = s.get(KbArticle, article_id)
        if row is None or row.retired:
            raise DataError(f"No live article with id '{article_id}'.")
        retire(s, row, source=SOURCE)
        clear_chunks(s, article_id)
        version = row.current_version
    kb.sync()
    return version


def restore_article(kb: KnowledgeBase, article_id: str) -> ImportSummary:
    """Bring a retired article back with its last text (a 'restored' version, indexed at once)."""
    with kb.db.session() as s:
        row = s.get(KbArticle, article_id)
        ver = latest_version(s, article_id)
        if row is None or ver is None or not row.retired:
            raise DataError(f"No retired article with id '{article_id}'.")
        text, path = ver.raw_text, row.path
    return kb.importer.import_articles([parse_article(text, path)], source=SOURCE)


__all__ = ["Check", "check_text", "discard_draft", "get_draft", "publish", "restore_article", "retire_article",
           "save_draft", "store_text", "unpublish", "valid_path", "article_id_for"]
