"""An article file as a form: front-matter fields + body in, the exact file text out (and back).

The console edits articles through these fields; :func:`compose` turns them into
the file text that is stored as a version and that ``kb export`` writes, byte for
byte. When no front-matter field changed, the original front-matter block is kept
verbatim (comments, quoting and key order included), so a body-only edit changes
only the body lines. Keys the form does not show (``permalink``, ``related_questions``,
custom keys) are kept as they were.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

import yaml

from knowledge_base.parser import split_front_matter

LIST_FIELDS = ("audience", "tags", "aliases", "questions")
FLOW_STYLE = ("audience", "tags")  # short lists written inline: ``tags: [vpn, remote]``
REVIEW_KEYS = ("review_by", "review-by", "reviewBy")


@dataclass
class ArticleForm:
    """The editable parts of an article file."""

    title: str = ""
    owner: str = ""
    status: str = ""  # "" = not set in the file (published)
    review_by: str = ""
    audience: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    body: str = ""

    def front(self) -> dict[str, Any]:
        """The front-matter fields (everything but the body), for comparison."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "body"}


def _as_list(value: Any, split_commas: bool) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    text = str(value)
    parts = text.split(",") if split_commas else [text]
    return [p.strip() for p in parts if p.strip()]


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _review_key(meta: dict[str, Any]) -> str:
    return next((k for k in REVIEW_KEYS if k in meta), "review_by")


def form_from_meta(meta: dict[str, Any], body: str) -> ArticleForm:
    """The form for a parsed front matter (as written in the file, not derived: no title from the heading)."""
    return ArticleForm(
        title=_as_text(meta.get("title")), owner=_as_text(meta.get("owner")),
        status=_as_text(meta.get("status")).lower(), review_by=_as_text(meta.get(_review_key(meta))),
        audience=_as_list(meta.get("audience"), True), tags=_as_list(meta.get("tags"), True),
        aliases=_as_list(meta.get("aliases"), False), questions=_as_list(meta.get("questions"), False),
        body=body)


def form_from_text(text: str, path: str) -> ArticleForm:
    """The form of an article file (DataError, with the line, when its front matter is not YAML/TOML)."""
    meta, body, _ = split_front_matter(text, path)
    return form_from_meta(meta, body)


def normalise_body(body: str) -> str:
    """A body as a browser submits it (CRLF line ends) in the file's LF form."""
    return body.replace("\r\n", "\n").replace("\r", "\n")


def _yaml_value(name: str, value: Any) -> Any:
    if name in REVIEW_KEYS:
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            return str(value)  # kept as typed: the parser then names the line and the rule
    return value


def _dump(meta: dict[str, Any]) -> str:
    out = []
    for key, value in meta.items():
        flow = key in FLOW_STYLE and isinstance(value, list)
        out.append(yaml.safe_dump({key: _yaml_value(key, value)}, sort_keys=False, allow_unicode=True,
                                   default_flow_style=None if flow else False, width=4096))
    return "".join(out)


def compose(form: ArticleForm, base_text: str | None = None, path: str = "article.md") -> str:
    """The file text for ``form``; ``base_text`` (the version being edited) supplies what the form does not show."""
    body = normalise_body(form.body)
    if base_text is None:
        meta: dict[str, Any] = {}
        block = None
    else:
        meta, base_body, _ = split_front_matter(base_text, path)
        block = base_text[: len(base_text) - len(base_body)] if base_body else base_text
        if form_from_meta(meta, base_body).front() == form.front():
            return block + body
    new = dict(meta)
    values = form.front()
    review_key = _review_key(meta)
    for name, value in values.items():
        key = review_key if name == "review_by" else name
        if name == "status" and value == "published" and "status" not in meta:
            value = ""  # published is the default: no need to add the key
        if value in ("", []):
            new.pop(key, None)
        else:
            new[key] = list(value) if isinstance(value, list) else value
    if not new:
        return body
    return "---\n" + _dump(new) + "---\n" + body


def with_status(text: str, status: str, path: str) -> str:
    """``text`` with its front matter's status set to ``status`` (draft | published)."""
    form = form_from_text(text, path)
    form.status = status
    return compose(form, text, path)


__all__ = ["ArticleForm", "compose", "form_from_meta", "form_from_text", "normalise_body", "with_status"]
