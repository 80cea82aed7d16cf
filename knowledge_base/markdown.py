"""Markdown → plain text for indexing and quoting; Liquid/Jekyll template tags are resolved or dropped."""

from __future__ import annotations

import re

_COMMENT = re.compile(r"{%-?\s*comment\s*-?%}.*?{%-?\s*endcomment\s*-?%}", re.DOTALL)
_PAGE = re.compile(r"{%-?\s*page\s+[\"']([^\"']*)[\"']\s*-?%}")
_SLACK = re.compile(r"{%-?\s*slack_channel\s+[\"']([^\"']*)[\"']\s*-?%}")
_TAG = re.compile(r"{%-?.*?-?%}", re.DOTALL)
_VAR = re.compile(r"{{.*?}}", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)]*)\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_REF_DEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[*+](\s+)", re.MULTILINE)
_STARS = re.compile(r"\*+(?=\S)|(?<=\S)\*+")
_UNDERSCORES = re.compile(r"(?<![\w/])_+(?=\w)|(?<=\w)_+(?![\w/])")
_INLINE_CODE = re.compile(r"`([^`]*)`")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$", re.MULTILINE)
_KRAMDOWN_ATTR = re.compile(r"{:[^}]*}")


def render_liquid(text: str) -> str:
    """Resolve the Liquid tags a handbook uses (page links, Slack channels) and drop the rest."""
    text = _COMMENT.sub("", text)
    text = _PAGE.sub(lambda m: m.group(1), text)
    text = _SLACK.sub(lambda m: "#" + m.group(1), text)
    text = _TAG.sub("", text)
    return _VAR.sub("", text)


def _keep_lines(pattern: re.Pattern[str], text: str, repl: str = "") -> str:
    return pattern.sub(lambda m: repl + "\n" * m.group(0).count("\n"), text)


def render_liquid_lines(text: str) -> str:
    """Like :func:`render_liquid`, and HTML comments and kramdown attributes dropped, keeping line numbers."""
    text = _keep_lines(_COMMENT, text)
    text = _PAGE.sub(lambda m: m.group(1), text)
    text = _SLACK.sub(lambda m: "#" + m.group(1), text)
    text = _keep_lines(_TAG, text)
    text = _keep_lines(_VAR, text)
    text = _keep_lines(_HTML_COMMENT, text)
    return _KRAMDOWN_ATTR.sub("", text)


def to_plain(markdown: str) -> str:
    """Readable plain text (for search and quotes): links keep their text, markup is removed."""
    text = render_liquid(markdown)
    text = _HTML_COMMENT.sub("", text)
    text = _IMAGE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _REF_LINK.sub(lambda m: m.group(1), text)
    text = _REF_DEF.sub("", text)
    text = _KRAMDOWN_ATTR.sub("", text)
    text = _HTML_TAG.sub(" ", text)
    text = _TABLE_RULE.sub("", text)
    text = _INLINE_CODE.sub(lambda m: m.group(1), text)
    text = _BULLET.sub(r"\1-\2", text)
    text = _STARS.sub("", text)
    text = _UNDERSCORES.sub("", text).replace("~~", "")
    lines = []
    for line in text.splitlines():
        line = line.rstrip()
        if line.strip().startswith(("```", "~~~")):
            continue
        line = re.sub(r"^\s*>\s?", "", line)
        line = line.replace("|", " ").replace("&nbsp;", " ").replace("&amp;", "&")
        lines.append(re.sub(r"[ \t]{2,}", " ", line))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def links(markdown: str) -> list[tuple[str, int]]:
    """Every inline link target with its (1-based) line number in ``markdown``, Liquid resolved."""
    found = []
    for n, line in enumerate(markdown.splitlines(), start=1):
        rendered = render_liquid(line)
        for m in _LINK.finditer(rendered):
            found.append((m.group(2).strip().split(" ")[0], n))
    return found
