"""Read one Markdown article: YAML front matter + body, tolerant of real-world variants.

The file text is kept exactly as read (for lossless export); metadata is parsed
from the front matter; errors name the file and the line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from bot.errors import DataError

STATUSES = ("draft", "published")
# What else names or describes the page: searched with its title (the article's card). A subtitle or
# description often says what the title leaves out ("Get access to Concur" / "First-time travel guide: Step 1a").
ALIAS_FIELDS = ("aliases", "questions", "related_questions", "keywords", "subtitle", "description", "summary")
_FENCE = re.compile(r"^(---|\.\.\.)\s*$")


@dataclass
class ParsedArticle:
    """An article as parsed from its file; ``raw_text`` is the file itself."""

    id: str
    path: str
    raw_text: str
    title: str
    body: str
    meta: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    audience: list[str] = field(default_factory=list)
    owner: str | None = None
    status: str = "published"
    review_by: str | None = None
    aliases: list[str] = field(default_factory=list)
    body_line: int = 1  # line number of the body's first line in the file

    @property
    def content_hash(self) -> str:
        return content_hash(self.raw_text)


def content_hash(text: str) -> str:
    """SHA-256 of an article file's text: what change detection compares."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def article_id_for(rel_path: str) -> str:
    """The stable id of an article: its path without the extension (``it/vpn``)."""
    p = PurePosixPath(rel_path)
    return str(p.with_suffix("")) if p.suffix.lower() in (".md", ".markdown", ".mdx") else str(p)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# the key holding a list item's words when the item is a mapping (e.g. `- text: Book office hours` + `url:`)
_ITEM_TEXT_KEYS = ("text", "title", "name", "label", "question", "q")


def _item_text(item: Any) -> str:
    """A list item's words: a scalar as text, a mapping by its text-like key; nothing else (never a repr)."""
    if isinstance(item, dict):
        item = next((item[k] for k in _ITEM_TEXT_KEYS if isinstance(item.get(k), str)), None)
    if item is None or isinstance(item, (dict, list, tuple)):
        return ""
    return str(item).strip()


def _string_list(value: Any, name: str, path: str, line: int) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()] if name in ("tags", "audience") else [value]
    if isinstance(value, (list, tuple)):
        return [t for t in (_item_text(v) for v in value) if t]
    raise DataError(f"front matter field '{name}' must be a list or a text, not {type(value).__name__}.",
                    path=path, line=line)


def split_front_matter(text: str, path: str) -> tuple[dict[str, Any], str, int]:
    """Return (front matter dict, body, body's first line number)."""
    stripped = text.removeprefix("\ufeff")
    lines = stripped.splitlines(keepends=True)
    if lines and lines[0].strip() == "+++":
        return _toml_front_matter(lines, path)
    if not lines or lines[0].strip() != "---":
        return {}, stripped, 1
    for i in range(1, len(lines)):
        if _FENCE.match(lines[i]):
            fm_text = "".join(lines[1:i])
            body = "".join(lines[i + 1:])
            break
    else:
        raise DataError("the front matter starts with '---' but is never closed by another '---' line.",
                        path=path, line=1)
    try:
        data = yaml.safe_load(fm_text) if fm_text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        context = getattr(exc, "context_mark", None)
        if context is not None and (mark is None or mark.index >= len(fm_text.rstrip())):
            mark = context  # an unclosed construct: point at where it starts, not at the end
        line = mark.line + 2 if mark is not None else 2
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise DataError(f"malformed front matter: {problem}.", path=path, line=line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DataError("the front matter must be a mapping of 'field: value' lines.", path=path, line=2)
    return data, body, i + 2


def _toml_front_matter(lines: list[str], path: str) -> tuple[dict[str, Any], str, int]:
    """Hugo-style ``+++`` TOML front matter."""
    import tomllib

    for i in range(1, len(lines)):
        if lines[i].strip() == "+++":
            break
    else:
        raise DataError("the front matter starts with '+++' but is never closed by another '+++' line.",
                        path=path, line=1)
    try:
        data = tomllib.loads("".join(lines[1:i]))
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        line = int(m.group(1)) + 1 if m else 2
        raise DataError(f"malformed TOML front matter: {str(exc).split(' (at')[0]}.", path=path,
                        line=line) from None
    return data, "".join(lines[i + 1:]), i + 2


def _field_line(text: str, name: str) -> int:
    for n, line in enumerate(text.splitlines()[:200], start=1):
        if re.match(rf"\s*{re.escape(name)}\s*:", line):
            return n
    return 1


def _first_heading(body: str) -> str | None:
    in_fence = False
    for line in body.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not in_fence:
            m = re.match(r"#\s+(.+?)\s*#*\s*$", line)
            if m:
                return m.group(1).strip()
    return None


def _review_date(value: Any, path: str, line: int) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise DataError(f"'review_by' must be a date like 2026-06-30, not {str(value)[:40]!r}.",
                        path=path, line=line) from None


_MDX_STATEMENT = re.compile(r"^(?:import|export)\s")
_CODE_FENCE = re.compile(r"^\s*(```|~~~)")


def mdx_body(body: str) -> str:
    """An MDX body as Markdown: top-level ``import``/``export`` lines become blank lines (line numbers kept).

    JSX components (``<Calculator />``) are HTML to the Markdown parser, which drops them.
    """
    out, fenced = [], False
    for line in body.splitlines(keepends=True):
        if _CODE_FENCE.match(line):
            fenced = not fenced
        elif not fenced and _MDX_STATEMENT.match(line):
            line = "\n" if line.endswith("\n") else ""
        out.append(line)
    return "".join(out)


def parse_article(text: str, rel_path: str) -> ParsedArticle:
    """Parse an article's text; ``rel_path`` (POSIX, relative to the folder) names it in errors."""
    meta, body, body_line = split_front_matter(text, rel_path)
    if rel_path.lower().endswith(".mdx"):
        body = mdx_body(body)
    title_value = meta.get("title")
    title = str(title_value).strip() if title_value not in (None, "") else None
    title = title or _first_heading(body) or PurePosixPath(rel_path).stem.replace("-", " ").replace("_", " ").title()
    status = str(meta.get("status") or "published").strip().lower()
    if status not in STATUSES:
        raise DataError(f"'status' must be draft or published, not {status!r}.",
                        path=rel_path, line=_field_line(text, "status"))
    aliases: list[str] = []
    for name in ALIAS_FIELDS:
        aliases += _string_list(meta.get(name), name, rel_path, _field_line(text, name))
    owner = meta.get("owner")
    review_key = next((k for k in ("review_by", "review-by", "reviewBy") if k in meta), "review_by")
    return ParsedArticle(
        id=article_id_for(rel_path),
        path=rel_path,
        raw_text=text,
        title=title,
        body=body,
        meta=_json_safe(meta),
        tags=_string_list(meta.get("tags"), "tags", rel_path, _field_line(text, "tags")),
        audience=sorted({a.lower() for a in _string_list(meta.get("audience"), "audience", rel_path,
                                                          _field_line(text, "audience"))}),
        owner=str(owner).strip() if owner not in (None, "") else None,
        status=status,
        review_by=_review_date(meta.get(review_key), rel_path, _field_line(text, review_key)),
        aliases=aliases,
        body_line=body_line,
    )


def read_article(path: Path, root: Path) -> ParsedArticle:
    """Read and parse ``path``; errors name the path relative to ``root``."""
    rel = path.relative_to(root).as_posix()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot be read: {exc.strerror}.", path=rel) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError("is not UTF-8 text.", path=rel, line=line) from None
    return parse_article(text, rel)
