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
import re
from dataclasses import dataclass, field, fields
from typing import Any

import yaml

from bot.errors import DataError
from knowledge_base.parser import split_front_matter

LIST_FIELDS = ("audience", "tags", "aliases", "questions")
FLOW_STYLE = ("audience", "tags")  # short lists written inline: ``tags: [vpn, remote]``
REVIEW_KEYS = ("review_by", "review-by", "reviewBy")
_FENCE = re.compile(r"^(---|\.\.\.)\s*$")
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")


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


def _patch(block: str, changes: dict[str, Any]) -> str | None:
    """The YAML front-matter ``block`` with only the changed keys' lines rewritten (None: not a plain YAML block)."""
    lines = block.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    close = next((i for i in range(1, len(lines)) if _FENCE.match(lines[i])), None)
    if close is None:
        return None
    inner = lines[1:close]
    starts = [(i, m.group(1)) for i, line in enumerate(inner) if (m := _TOP_KEY.match(line))]
    spans: dict[str, tuple[int, int]] = {}
    for n, (i, key) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(inner)
        while end > i + 1 and (not inner[end - 1].strip() or inner[end - 1].lstrip().startswith("#")):
            end -= 1  # blank lines and comments after a value stay where they are
        spans[key] = (i, end)
    replace: dict[int, tuple[int, list[str]]] = {}
    added: list[str] = []
    for key, value in changes.items():
        new_lines = [] if value in ("", []) else _dump({key: value}).splitlines(keepends=True)
        if key in spans:
            start, end = spans[key]
            replace[start] = (end, new_lines)
        else:
            added += new_lines
    out: list[str] = []
    i = 0
    while i < len(inner):
        if i in replace:
            end, new_lines = replace[i]
            out += new_lines
            i = end
        else:
            out.append(inner[i])
            i += 1
    if out and not out[-1].endswith("\n"):
        out[-1] += "\n"
    return lines[0] + "".join(out + added) + "".join(lines[close:])


def compose(form: ArticleForm, base_text: str | None = None, path: str = "article.md") -> str:
    """The file text for ``form``; ``base_text`` (the version being edited) supplies what the form does not show.

    Only the lines of changed fields are rewritten, so a diff (and ``git diff``) shows just the edit;
    front matter that cannot be patched line by line (TOML, unusual YAML) is written anew as YAML.
    """
    body = normalise_body(form.body)
    meta: dict[str, Any] = {}
    block = ""
    base = ArticleForm().front()
    if base_text is not None:
        meta, base_body, _ = split_front_matter(base_text, path)
        block = base_text[: len(base_text) - len(base_body)] if base_body else base_text
        base = form_from_meta(meta, base_body).front()
    target = form.front()
    if target["status"] == "published" and "status" not in meta:
        target["status"] = ""  # published is the default: no need to add the key
    review_key = _review_key(meta)
    changes = {(review_key if name == "review_by" else name): value
               for name, value in target.items() if value != base[name]}
    if not changes:
        return block + body
    patched = _patch(block, changes) if block else None
    if patched is not None:
        try:
            if form_from_meta(split_front_matter(patched + body, path)[0], body).front() == target:
                return patched + body
        except DataError:
            pass
    new = dict(meta)
    for key, value in changes.items():
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
