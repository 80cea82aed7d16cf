"""The article editor's state: which text is being edited, from which version, and what the form holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from bot.errors import DataError
from bot.storage.session import Database
from knowledge_base.article_file import ArticleForm, compose, form_from_text
from knowledge_base.drafts import Check, check_text, get_draft
from knowledge_base.models import KbArticle
from knowledge_base.parser import ParsedArticle, article_id_for
from knowledge_base.store import latest_version

NEW_TEMPLATE = "\n# {title}\n\nWrite the answer here.\n"


@dataclass
class Editing:
    """One editor page: the article (None id: a new one), the version it started from, the form."""

    article_id: str | None
    path: str
    base_version: int | None
    base_text: str | None
    form: ArticleForm
    draft_by: str | None = None
    draft_at: str | None = None
    retired: bool = False
    problems: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @property
    def is_new(self) -> bool:
        return self.base_version is None

    def text(self) -> str:
        """The file text the form composes (what a publish stores and ``kb export`` writes)."""
        return compose(self.form, self.base_text, self.path)

    def values(self) -> dict[str, Any]:
        """The form's fields as the template shows them."""
        f = self.form
        return {"title": f.title, "owner": f.owner, "status": f.status, "review_by": f.review_by,
                "audience": ", ".join(f.audience), "tags": ", ".join(f.tags),
                "aliases": "\n".join(f.aliases), "questions": "\n".join(f.questions), "body": f.body}


def _lines(value: str) -> list[str]:
    return [v.strip() for v in value.replace("\r\n", "\n").split("\n") if v.strip()]


def _commas(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def form_from_post(data: FormData | dict[str, Any]) -> ArticleForm:
    """The editor's fields as submitted (lists: comma-separated or one per line)."""
    def get(name: str) -> str:
        value = data.get(name, "")
        return value if isinstance(value, str) else ""

    return ArticleForm(title=get("title").strip(), owner=get("owner").strip(), status=get("status").strip().lower(),
                       review_by=get("review_by").strip(), audience=_commas(get("audience").lower()),
                       tags=_commas(get("tags")), aliases=_lines(get("aliases")), questions=_lines(get("questions")),
                       body=get("body"))


def load(db: Database, article_id: str) -> Editing:
    """The editor for a stored article: its draft when a trainer saved one, else its latest version."""
    with db.session() as s:
        row = s.get(KbArticle, article_id)
        draft = get_draft(s, article_id)
        ver = latest_version(s, article_id) if row is not None else None
        if row is None and draft is None:
            raise DataError(f"No article with id '{article_id}'.")
        base_text = ver.raw_text if ver is not None else None
        path = row.path if row is not None else draft.path if draft is not None else ""
        text = draft.raw_text if draft is not None else base_text or ""
        version = row.current_version if row is not None else None
        if draft is not None and draft.base_version is not None and version is not None:
            version = draft.base_version  # publishing then notices a version stored since the draft began
        editing = Editing(article_id, path, version, base_text, ArticleForm(),
                          retired=bool(row is not None and row.retired))
        if draft is not None:
            editing.draft_by, editing.draft_at = draft.updated_by, draft.updated_at.isoformat(timespec="minutes")
    try:
        editing.form = form_from_text(text, path)
    except DataError as exc:  # a draft whose front matter is not YAML: edit its body, show the error
        editing.form = ArticleForm(body=text)
        editing.error = exc.user_message
    return editing


def new(questions: list[str], title: str = "") -> Editing:
    """The editor for a new article (``questions``: e.g. a gap cluster's examples)."""
    form = ArticleForm(title=title, questions=[q.strip() for q in questions if q.strip()][:20],
                       body=NEW_TEMPLATE.format(title=title or "Title"))
    return Editing(None, "", None, None, form)


def from_post(db: Database, data: FormData) -> Editing:
    """The editor as submitted: the stored article it edits (if any) and the submitted fields."""
    from knowledge_base.drafts import valid_path

    article_id = str(data.get("article_id") or "").strip()
    form = form_from_post(data)
    if article_id:
        editing = load(db, article_id)
        editing.form, editing.error = form, None
        base = str(data.get("base_version") or "")
        if base.isdigit() and editing.base_version is not None:
            editing.base_version = int(base)
        return editing
    path = str(data.get("path") or "")
    editing = Editing(None, path.strip(), None, None, form)
    editing.path = valid_path(path)  # DataError names the field; the caller shows it with the form
    editing.article_id = article_id_for(editing.path)
    return editing


def check(editing: Editing, others: list[ParsedArticle], base_url: str | None) -> Check:
    """The composed text checked as ``kb import`` + ``kb lint`` would."""
    return check_text(editing.text(), editing.path or "new-article.md", others, base_url=base_url)
