"""An article body as structure (markdown-it-py): sections with heading paths, and their blocks.

Every block has two forms: ``plain`` (what is indexed: link text without URLs, a table row as
"Header: value" pairs, code verbatim) and ``md`` (what a gist shows: links with their URL, a list
item with its number, a row with its header in bold).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it.tree import SyntaxTreeNode

from knowledge_base.markdown import new_parser, render_liquid_lines

_MD = new_parser()
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_ENTITY = (("&nbsp;", " "), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'))
_SLUG_DROP = re.compile(r"[^\w\- ]")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


@dataclass
class Item:
    """One list item: its marker ("3." or "-"), nesting depth and both forms of its own text."""

    marker: str
    depth: int
    plain: str
    md: str


@dataclass
class Block:
    """A paragraph, list, table, code block or HTML text; ``line`` is 1-based within the body."""

    kind: str                 # para | list | table | code
    line: int
    plain: str = ""
    md: str = ""
    ordered: bool = False
    items: list[Item] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)      # plain cells
    rows_md: list[list[str]] = field(default_factory=list)   # Markdown cells

    def units(self) -> list[str]:
        """The pieces a chunk may not cut: list items, table rows, or the block itself."""
        if self.kind == "list":
            return [item_line(i, plain=True) for i in self.items]
        if self.kind == "table":
            return [row_plain(self.header, r) for r in self.rows]
        return [self.plain]


@dataclass
class Section:
    """One heading's part of the body: heading, level (0 = before the first heading), trail, blocks."""

    level: int
    heading: str | None
    line: int
    trail: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    top_level: int = 0  # the level of the trail's first heading

    @property
    def anchor(self) -> str | None:
        """The heading's id as Markdown renderers make it (GitHub/kramdown style), without '#'."""
        return slug(self.heading) if self.heading else None

    def label(self) -> str | None:
        """The section path shown with chunks: "Parent > Heading"."""
        return " > ".join(self.trail) or None


def slug(heading: str) -> str:
    """GitHub-style anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return _SLUG_DROP.sub("", heading.strip().lower()).replace(" ", "-")


def item_line(item: Item, *, plain: bool) -> str:
    """A list item as one Markdown line, indented by its depth."""
    return "  " * item.depth + f"{item.marker} {item.plain if plain else item.md}"


def row_plain(header: list[str], row: list[str]) -> str:
    """A table row as "Header: value; Header: value" (empty cells left out)."""
    return "; ".join(f"{h}: {v}" if h else v for h, v in zip(_pad(header, row), row, strict=True) if v)


def row_md(header: list[str], row: list[str]) -> str:
    """A table row for a chat message: "**Header:** value · **Header:** value"."""
    return " · ".join(f"**{h.replace('**', '')}:** {v.replace('**', '')}" if h else v
                      for h, v in zip(_pad(header, row), row, strict=True) if v)


def _pad(header: list[str], row: list[str]) -> list[str]:
    return (header + [""] * len(row))[: len(row)]


def _clean(text: str) -> str:
    for entity, char in _ENTITY:
        text = text.replace(entity, char)
    return "\n".join(line for line in (re.sub(r"[ \t]+", " ", x).strip() for x in text.split("\n")) if line)


def _safe_url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def inline(node: SyntaxTreeNode, *, md: bool) -> str:
    """Inline content as plain text (links keep their text) or as chat Markdown (links keep their URL)."""
    out: list[str] = []
    for child in node.children:
        t = child.type
        if t == "text":
            out.append(child.content)
        elif t in ("softbreak", "hardbreak"):
            out.append(" ")
        elif t == "code_inline":
            out.append(f"`{child.content}`" if md else child.content)
        elif t == "image":
            if not md:
                out.append(inline(child, md=False))
        elif t == "html_inline":
            if _BR.match(child.content):
                out.append("\n")
        elif t == "link":
            text = inline(child, md=md)
            href = str(child.attrs.get("href", ""))
            if md and href.startswith(("http://", "https://")) and text.strip():
                out.append(f"[{text}]({_safe_url(href)})")
            else:
                out.append(text)
        elif t == "strong":
            text = inline(child, md=md)
            out.append(f"**{text}**" if md and text.strip() else text)
        else:  # em, s and anything else: their text
            out.append(inline(child, md=md))
    return _clean("".join(out))


def _line(node: SyntaxTreeNode, offset: int) -> int:
    return (node.map[0] if node.map else 0) + 1 + offset


def _list_items(node: SyntaxTreeNode, depth: int, out: list[Item]) -> None:
    ordered = node.type == "ordered_list"
    start = int(node.attrs.get("start", 1) or 1) if ordered else 1
    for n, li in enumerate(node.children):
        plain, md = [], []
        nested = []
        for child in li.children:
            if child.type in ("bullet_list", "ordered_list"):
                nested.append(child)
            elif child.type == "paragraph" and child.children:
                plain.append(inline(child.children[0], md=False))
                md.append(inline(child.children[0], md=True))
            elif child.type in ("fence", "code_block"):
                code = " ".join(child.content.split())
                plain.append(code)
                md.append(f"`{code}`")
            else:  # blockquote, table, html inside an item: its text
                sub: list[Block] = []
                _blocks(child, 0, sub)
                plain += [b.plain for b in sub]
                md += [b.md for b in sub]
        marker = f"{start + n}." if ordered else "-"
        out.append(Item(marker, depth, " ".join(p for p in plain if p), " ".join(m for m in md if m)))
        for sub_list in nested:
            _list_items(sub_list, depth + 1, out)


def _table(node: SyntaxTreeNode, offset: int) -> Block:
    header: list[str] = []
    rows: list[list[str]] = []
    rows_md: list[list[str]] = []
    for part in node.children:
        for tr in part.children:
            cells = [inline(c.children[0], md=False) if c.children else "" for c in tr.children]
            cells_md = [inline(c.children[0], md=True) if c.children else "" for c in tr.children]
            if part.type == "thead":
                header = cells
            else:
                rows.append(cells)
                rows_md.append(cells_md)
    block = Block("table", _line(node, offset), header=header, rows=rows, rows_md=rows_md)
    block.plain = "\n".join(row_plain(header, r) for r in rows)
    block.md = "\n".join(row_md(header, r) for r in rows_md)
    return block


def _blocks(node: SyntaxTreeNode, offset: int, out: list[Block]) -> None:
    """Append the blocks of ``node`` (a container) to ``out``; blockquotes are flattened."""
    t = node.type
    if t == "paragraph":
        if node.children:
            plain, md = inline(node.children[0], md=False), inline(node.children[0], md=True)
            if plain:
                out.append(Block("para", _line(node, offset), plain, md))
    elif t in ("bullet_list", "ordered_list"):
        items: list[Item] = []
        _list_items(node, 0, items)
        block = Block("list", _line(node, offset), ordered=t == "ordered_list", items=items)
        block.plain = "\n".join(item_line(i, plain=True) for i in items)
        block.md = "\n".join(item_line(i, plain=False) for i in items)
        out.append(block)
    elif t == "table":
        out.append(_table(node, offset))
    elif t in ("fence", "code_block"):
        code = node.content.rstrip("\n")
        if code.strip():
            out.append(Block("code", _line(node, offset), code, f"```\n{code}\n```"))
    elif t == "html_block":
        text = _clean(" ".join(_HTML_TAG.sub(" ", node.content).split()))
        if text:
            out.append(Block("para", _line(node, offset), text, text))
    elif t in ("blockquote", "root"):
        for child in node.children:
            _blocks(child, offset, out)


@lru_cache(maxsize=256)
def _parse(body: str) -> tuple[Section, ...]:
    tree = SyntaxTreeNode(_MD.parse(render_liquid_lines(body)))
    sections = [Section(0, None, 1)]
    trail: list[tuple[int, str]] = []
    for node in tree.children:
        if node.type == "heading":
            level = int(node.tag[1])
            heading = inline(node.children[0], md=False) if node.children else ""
            while trail and trail[-1][0] >= level:
                trail.pop()
            trail.append((level, heading))
            sections.append(Section(level, heading, _line(node, 0), [h for _, h in trail], top_level=trail[0][0]))
        else:
            _blocks(node, 0, sections[-1].blocks)
    return tuple(sections)


def parse_sections(body: str, title: str | None = None) -> list[Section]:
    """The body's sections in order; a top-level heading equal to ``title`` is left out of the trails."""
    out = []
    for sec in _parse(body):
        trail = list(sec.trail)
        if (title is not None and trail and sec.top_level == 1
                and trail[0].strip().lower() == title.strip().lower()):
            trail = trail[1:]
        out.append(Section(sec.level, sec.heading, sec.line, trail, sec.blocks, sec.top_level))
    return out
