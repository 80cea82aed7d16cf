"""Markdown helpers for the knowledge base: Liquid/Jekyll tags resolved or dropped, the shared parser, links."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from markdown_it import MarkdownIt, rules_inline
from markdown_it.rules_inline import StateInline

_COMMENT = re.compile(r"{%-?\s*comment\s*-?%}.*?{%-?\s*endcomment\s*-?%}", re.DOTALL)
_PAGE = re.compile(r"{%-?\s*page\s+[\"']([^\"']*)[\"']\s*-?%}")
_SLACK = re.compile(r"{%-?\s*slack_channel\s+[\"']([^\"']*)[\"']\s*-?%}")
_TAG = re.compile(r"{%-?.*?-?%}", re.DOTALL)
_VAR = re.compile(r"{{.*?}}", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_KRAMDOWN_ATTR = re.compile(r"{:[^}]*}")


def new_parser() -> MarkdownIt:
    """A Markdown parser configured as the index reads articles (CommonMark, HTML, tables, strikethrough)."""
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def _keep_lines(pattern: re.Pattern[str], text: str, repl: str = "") -> str:
    return pattern.sub(lambda m: repl + "\n" * m.group(0).count("\n"), text)


def render_liquid_lines(text: str) -> str:
    """Resolve the Liquid tags a handbook uses (page links, Slack channels), drop the rest, HTML comments
    and kramdown attributes, keeping line numbers."""
    text = _keep_lines(_COMMENT, text)
    text = _PAGE.sub(lambda m: m.group(1), text)
    text = _SLACK.sub(lambda m: "#" + m.group(1), text)
    text = _keep_lines(_TAG, text)
    text = _keep_lines(_VAR, text)
    text = _keep_lines(_HTML_COMMENT, text)
    return _KRAMDOWN_ATTR.sub("", text)


_Rule = Callable[[StateInline, bool], bool]


def _noting_line(rule: _Rule) -> _Rule:
    """Wrap an inline link rule: the link it opens records its line within the block and whether it is a
    reference link (``[text][label]``, ``[text][]``, ``[label]``: it ends with ``]``, an inline one with ``)``)."""
    def wrapped(state: StateInline, silent: bool) -> bool:
        start, first = state.pos, len(state.tokens)
        matched = rule(state, silent)
        if matched and not silent:
            for token in state.tokens[first:]:
                if token.type == "link_open":
                    token.meta["line"] = state.src.count("\n", 0, start)
                    token.meta["reference"] = state.src[state.pos - 1] == "]"
                    break
        return matched
    return wrapped


_LINKS = new_parser()
_LINKS.inline.ruler.at("link", _noting_line(rules_inline.link))
_LINKS.inline.ruler.at("autolink", _noting_line(rules_inline.autolink))


def links(markdown: str) -> list[tuple[str, int]]:
    """Every link target (inline, reference, autolink) with its 1-based line in ``markdown``, Liquid resolved.

    Links in code (fenced, indented, inline spans), HTML comments and images are not links. A reference link
    is placed on its definition's line, where its target is written; each (target, line) is listed once.
    Targets are percent-decoded, as a browser resolves them (``caf%C3%A9.md`` is ``café.md``).
    """
    env: dict[str, Any] = {}
    tokens = _LINKS.parse(render_liquid_lines(markdown), env)
    definitions = env.get("references", {}).values()
    found: dict[tuple[str, int], None] = {}
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        for token in block.children:
            if token.type != "link_open":
                continue
            href = str(token.attrGet("href") or "")
            line = (block.map[0] if block.map else 0) + 1 + int(token.meta.get("line", 0))
            if token.meta.get("reference"):
                line = next((d["map"][0] + 1 for d in definitions if d["href"] == href), line)
            found[(unquote(href), line)] = None
    return list(found)
