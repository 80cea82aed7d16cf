"""Article storage with full version history: import, retire, export, list, show, history."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.errors import DataError
from bot.storage.base import utcnow
from bot.storage.session import Database
from knowledge_base.models import KbArticle, KbArticleVersion
from knowledge_base.parser import ParsedArticle, article_id_for, parse_article, read_article

SUFFIXES = (".md", ".markdown", ".mdx")  # MDX: Markdown with JSX components (Docusaurus, Gatsby)
KEPT_NOTE = " Not imported: the last good version stays live."


@contextmanager
def session_scope(db: Database, session: Session | None) -> Iterator[Session]:
    """The caller's session (no commit here), or a new one committed on exit."""
    if session is not None:
        yield session
    else:
        with db.session() as own:
            yield own


@dataclass
class ImportError_:
    """An article file that could not be imported, with where."""

    path: str
    line: int | None
    message: str
    kept_live: bool = False  # the article's last good version stays live (the file used to import fine)
    article_id: str | None = None


@dataclass
class ImportSummary:
    """What an import did, per article id."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    errors: list[ImportError_] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return self.created + self.updated + self.restored

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = {k: len(v) for k, v in data.items() if isinstance(v, list)}
        return data


def find_files(root: Path) -> list[Path]:
    """Article files under ``root`` (hidden folders skipped), in a stable order."""
    files = [p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
             and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def read_folder(root: Path, errors: list[ImportError_]) -> list[ParsedArticle]:
    """Parse every article; a bad file is recorded in ``errors`` and skipped, never fatal."""
    parsed: list[ParsedArticle] = []
    seen: dict[str, str] = {}
    for path in find_files(root):
        try:
            art = read_article(path, root)
        except DataError as exc:
            rel = path.relative_to(root).as_posix()
            errors.append(ImportError_(exc.path or rel, exc.line, exc.user_message, article_id=article_id_for(rel)))
            continue
        if art.id in seen:
            errors.append(ImportError_(art.path, None, f"{art.path}: same article id as {seen[art.id]}; skipped."))
            continue
        seen[art.id] = art.path
        parsed.append(art)
    return parsed


def scan_folder(root: Path, errors: list[ImportError_],
                current: dict[str, tuple[str, str]]) -> tuple[list[ParsedArticle], list[str]]:
    """Like read_folder, but files whose text hash matches ``current[id] == (hash, path)`` are not parsed.

    Returns (parsed new/changed articles, ids of unchanged ones): a re-import of a
    large folder costs a read and a hash per unchanged file.
    """
    from knowledge_base.parser import content_hash

    parsed: list[ParsedArticle] = []
    unchanged: list[str] = []
    seen: dict[str, str] = {}
    for path in find_files(root):
        rel = path.relative_to(root).as_posix()
        aid = article_id_for(rel)
        if aid in seen:
            errors.append(ImportError_(rel, None, f"{rel}: same article id as {seen[aid]}; skipped."))
            continue
        seen[aid] = rel
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            text = None  # read_article reports it with the line
        if text is not None and current.get(aid) == (content_hash(text), rel):
            unchanged.append(aid)
            continue
        try:
            parsed.append(read_article(path, root) if text is None else parse_article(text, rel))
        except DataError as exc:
            kept = aid in current  # a file that used to import fine: its last good version stays live
            errors.append(ImportError_(exc.path or rel, exc.line, exc.user_message + (KEPT_NOTE if kept else ""),
                                       kept_live=kept, article_id=aid))
    return parsed, unchanged


def mark_kept(errors: list[ImportError_], live_ids: set[str]) -> None:
    """Say, on each unparsable file whose article is live, that its last good version stays live."""
    for e in errors:
        if e.article_id in live_ids and not e.kept_live:
            e.kept_live = True
            e.message += KEPT_NOTE


def _apply_meta(row: KbArticle, art: ParsedArticle) -> None:
    row.path = art.path
    row.title = art.title[:500]
    row.status = art.status
    row.audience = list(art.audience)
    row.owner = art.owner
    row.tags = list(art.tags)
    row.review_by = art.review_by
    row.content_hash = art.content_hash
    row.updated_at = utcnow()


def _version(row: KbArticle, art_text: str, meta: dict[str, Any], change: str, source: str) -> KbArticleVersion:
    return KbArticleVersion(article_id=row.id, version=row.current_version, change=change,
                            content_hash=row.content_hash, raw_text=art_text, meta=meta, path=row.path,
                            source=source)


def store_articles(session: Session, articles: Iterable[ParsedArticle], summary: ImportSummary, *,
                   retire_missing: bool, source: str = "import",
                   on_change: Callable[[KbArticle, ParsedArticle | None], None] | None = None,
                   unchanged: Iterable[str] = (), keep: Iterable[str] = ()) -> None:
    """Create/update/restore articles and retire the missing ones, recording each change as a version.

    ``unchanged``: ids known (by hash) to be present and unchanged; they are not loaded.
    ``keep``: ids whose file is present but failed to parse: never retired (the last good version stays live).
    """
    arts = list(articles)
    present: set[str] = set(unchanged) | set(keep)
    summary.unchanged.extend(unchanged)
    wanted = [a.id for a in arts]
    existing: dict[str, KbArticle] = {}
    for start in range(0, len(wanted), 500):
        existing.update({a.id: a for a in session.scalars(
            select(KbArticle).where(KbArticle.id.in_(wanted[start:start + 500])))})
    if retire_missing:
        live = session.scalars(select(KbArticle.id).where(KbArticle.retired.is_(False))).all()
        wanted_set = set(wanted)
        gone = [aid for aid in live if aid not in present and aid not in wanted_set]
        for start in range(0, len(gone), 500):
            existing.update({a.id: a for a in session.scalars(
                select(KbArticle).where(KbArticle.id.in_(gone[start:start + 500])))})
    articles = arts
    for art in articles:
        present.add(art.id)
        row = existing.get(art.id)
        if row is None:
            row = KbArticle(id=art.id, current_version=1, retired=False, created_at=utcnow())
            _apply_meta(row, art)
            session.add(row)
            session.flush()
            session.add(_version(row, art.raw_text, {**art.meta, "_title": art.title}, "created", source))
            summary.created.append(art.id)
        elif row.retired:
            row.retired, row.retired_at = False, None
            row.current_version += 1
            _apply_meta(row, art)
            session.add(_version(row, art.raw_text, {**art.meta, "_title": art.title}, "restored", source))
            summary.restored.append(art.id)
        elif row.content_hash != art.content_hash or row.path != art.path:
            row.current_version += 1
            _apply_meta(row, art)
            session.add(_version(row, art.raw_text, {**art.meta, "_title": art.title}, "updated", source))
            summary.updated.append(art.id)
        else:
            summary.unchanged.append(art.id)
            continue
        if on_change:
            on_change(row, art)
    if retire_missing:
        for aid, row in existing.items():
            if aid not in present and not row.retired:
                retire(session, row, source=source)
                summary.retired.append(aid)
                if on_change:
                    on_change(row, None)


def latest_version(session: Session, article_id: str) -> KbArticleVersion | None:
    """The article's newest version (its current file text), or None when it has none."""
    return session.scalars(select(KbArticleVersion).where(KbArticleVersion.article_id == article_id)
                           .order_by(KbArticleVersion.version.desc()).limit(1)).first()


def retire(session: Session, row: KbArticle, *, source: str = "import") -> None:
    """Retire an article: hidden from search, its history kept, a 'retired' version recorded."""
    last = latest_version(session, row.id)
    row.retired, row.retired_at = True, utcnow()
    row.current_version += 1
    session.add(KbArticleVersion(article_id=row.id, version=row.current_version, change="retired",
                                 content_hash=row.content_hash, raw_text=last.raw_text if last else "",
                                 meta=last.meta if last else {}, path=row.path, source=source))


def export_folder(session: Session, root: Path, *, include_drafts: bool = True) -> list[str]:
    """Write each live article's current file text to ``root/<path>``, byte-for-byte."""
    written = []
    for row in session.scalars(select(KbArticle).where(KbArticle.retired.is_(False)).order_by(KbArticle.id)):
        if row.status == "draft" and not include_drafts:
            continue
        ver = latest_version(session, row.id)
        if ver is None:
            continue
        target = root / row.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(ver.raw_text.encode("utf-8"))
        written.append(row.path)
    return written


def clear_chunks(session: Session, article_id: str) -> None:
    """Delete the indexed chunks of one article."""
    from knowledge_base.models import KbChunk

    session.execute(delete(KbChunk).where(KbChunk.article_id == article_id))
