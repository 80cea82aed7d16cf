"""Gists that read as answers: the sentences, list items or table rows of a section that answer a question.

The gist keeps the Markdown form (a step list stays a numbered list, a table row keeps its header,
links keep their URL), stays short enough for a chat message, and says which heading it came from
so the answer can link the full section.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.orm import Session

from bot.errors import DataError
from knowledge_base.catalog import show_article
from knowledge_base.parser import parse_article
from knowledge_base.structure import Block, Item, Section, item_line, parse_sections, row_md
from knowledge_base.text import tokens

GIST_CHARS = 600   # a chat-sized answer
MAX_ITEMS = 5      # list items or table rows shown before "and N more"
MAX_ROWS = 3
CODE_CHARS = 300   # a code block this short may follow the sentence that introduces it
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[*`])")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)\s]*\)")


@dataclass
class Gist:
    """The answer part of a reply, in Markdown, and the section it comes from."""

    text: str
    section: str | None   # the section path ("Parent > Heading"), as on chunks
    anchor: str | None    # the heading's id, for a link to the full section (None: the article's top)


@dataclass
class _Unit:
    block: int            # index into the candidate blocks
    index: int            # sentence / item group / row within the block
    plain: str
    score: float = 0.0


def md_to_plain(text: str) -> str:
    """Chat Markdown without its markup: links keep their text, ``**`` and backticks go."""
    return _MD_LINK.sub(r"\1", text).replace("**", "").replace("`", "")


def sentences(md: str) -> list[str]:
    """A paragraph's sentences and lines (in Markdown; a link's text may hold a full stop)."""
    return [s.strip() for line in md.splitlines() for s in _SENTENCE.split(line) if s.strip()]


def _groups(items: list[Item]) -> list[list[Item]]:
    """Top-level list items, each with its sub-items."""
    out: list[list[Item]] = []
    for item in items:
        if item.depth == 0 or not out:
            out.append([])
        out[-1].append(item)
    return out


def _norm(text: str) -> str:
    return " ".join(text.split())


def _find_section(secs: list[Section], label: str | None, passage: str) -> int | None:
    matches = [i for i, s in enumerate(secs) if s.label() == label and s.blocks]
    if not matches:
        matches = [i for i, s in enumerate(secs) if s.label() == label]
    if len(matches) > 1 and passage:  # the same heading twice: the one the passage comes from
        flat = _norm(passage)
        matches.sort(key=lambda i: -sum(_norm(u) in flat for b in secs[i].blocks for u in b.units()))
    return matches[0] if matches else None


def _candidates(secs: list[Section], at: int, passage: str) -> list[Block]:
    """The section's blocks the matched chunk holds (a short section borrows its sub-sections' blocks)."""
    sec = secs[at]
    blocks = list(sec.blocks)
    for nxt in secs[at + 1:]:
        if sum(len(b.plain.split()) for b in blocks) >= 40 or nxt.level <= sec.level and sec.level > 0:
            break
        blocks += nxt.blocks
    if passage:
        flat = _norm(passage)
        held = [b for b in blocks if any(_norm(u) in flat for u in b.units())]
        if held:
            return held
    return blocks


def _units(blocks: list[Block]) -> list[_Unit]:
    out = []
    for b, block in enumerate(blocks):
        if block.kind == "para":
            out += [_Unit(b, i, md_to_plain(s)) for i, s in enumerate(sentences(block.md))]
        elif block.kind == "list":
            out += [_Unit(b, i, " ".join(x.plain for x in g)) for i, g in enumerate(_groups(block.items))]
        elif block.kind == "table":
            out += [_Unit(b, i, " ".join(row)) for i, row in enumerate(block.rows)]  # the header is shared
    return out


def _score(question: str, units: list[_Unit]) -> None:
    """Shared question terms, weighted by how rare they are among the section's units (a word in
    every row, like a repeated "Office guide", tells the rows apart less than a city's name)."""
    q = set(tokens(question))
    terms = [set(tokens(u.plain)) for u in units]
    df = {t: sum(t in ts for ts in terms) for t in q}
    for u, ts in zip(units, terms, strict=True):
        shared = q & ts
        u.score = sum(math.log(1 + len(units) / df[t]) for t in shared) + (0.1 * len(shared) / len(ts) if ts else 0)


def _render_items(block: Block, picked: list[int], total: int, limit: int) -> str:
    groups = _groups(block.items)
    lines = [_cut(item_line(it, plain=False), limit) for i in picked for it in groups[i] if it.depth <= 1]
    rest = total - len(picked)
    if rest > 0:
        noun = "steps" if block.ordered else "items"
        lines.append(f"…and {rest} more {noun[:-1] if rest == 1 else noun}")
    return "\n".join(lines)


def _list_text(block: Block, picked: list[int], limit: int, scores: dict[int, float] | None = None) -> str:
    """The picked items in order, dropping the least useful ones (the lowest-scoring item; in a step
    list the steps furthest from the best one, keeping them contiguous) until the text fits ``limit``."""
    scores = scores or {}
    total = len(_groups(block.items))
    picked = list(picked)
    best = max(picked, key=lambda i: (scores.get(i, 0.0), -i)) if picked else None
    text = _render_items(block, picked, total, limit)
    while len(text) > limit and len(picked) > 1:
        others = [i for i in picked if i != best]
        if block.ordered:  # steps stay contiguous: the ones after the best go first, then the earliest
            drop = others[-1] if others[-1] > (best or 0) else others[0]
        else:
            drop = min(others, key=lambda i: (scores.get(i, 0.0), -i))
        picked.remove(drop)
        text = _render_items(block, picked, total, limit)
    return text


def _pick_items(block: Block, units: list[_Unit], b: int) -> list[int]:
    mine = [u for u in units if u.block == b]
    n = len(mine)
    if n <= MAX_ITEMS:
        return list(range(n))
    best = max(mine, key=lambda u: (u.score, -u.index))
    if block.ordered:  # steps: from the start, or a window around the matching step
        start = 0 if best.index < MAX_ITEMS else min(best.index - 2, n - MAX_ITEMS)
        return list(range(start, start + MAX_ITEMS))
    top = sorted(mine, key=lambda u: (-u.score, u.index))
    if top[0].score > 0:  # a long bullet list: the items that match
        top = [u for u in top if u.score >= 0.6 * top[0].score]
    return sorted(u.index for u in top[:MAX_ITEMS])


def _table_text(block: Block, units: list[_Unit], b: int) -> str:
    mine = sorted((u for u in units if u.block == b), key=lambda u: (-u.score, u.index))
    matching = [u for u in mine if u.score > 0 and u.score >= 0.6 * mine[0].score]
    picked = sorted(u.index for u in matching[:MAX_ROWS]) if matching else list(range(MAX_ROWS))
    picked = [i for i in picked if i < len(block.rows_md)]
    if len(picked) == 1:
        row = block.rows_md[picked[0]]
        lines = [line for line in row_md(block.header, row).split(" · ")]
    else:
        lines = ["- " + row_md(block.header, block.rows_md[i]) for i in picked]
    rest = len(block.rows_md) - len(picked)
    if rest > 0:
        lines.append(f"…and {rest} more row{'s' if rest > 1 else ''}")
    return "\n".join(lines)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"


def _lead_in(blocks: list[Block], b: int) -> str | None:
    """The sentence that introduces block ``b`` ("To do X:"), when the previous block ends with one."""
    if b > 0 and blocks[b - 1].kind == "para":
        last = sentences(blocks[b - 1].md)[-1:]
        if last and last[0].rstrip().endswith(":"):
            return last[0]
    return None


def _compose(blocks: list[Block], units: list[_Unit], limit: int) -> str:
    best = max(units, key=lambda u: (u.score, -u.block, -u.index)) if units else None
    if best is None:
        code = next((b for b in blocks if b.kind == "code"), None)
        return _cut(code.md, limit) if code and len(code.md) <= limit else ""
    block = blocks[best.block]
    if block.kind in ("list", "table"):
        lead = _lead_in(blocks, best.block)
        head = f"{lead}\n" if lead else ""
        if block.kind == "table":
            return head + _table_text(block, units, best.block)
        picked = _pick_items(block, units, best.block)
        scores = {u.index: u.score for u in units if u.block == best.block}
        return head + _list_text(block, picked, limit - len(head), scores)
    # sentences: the best one (or two, in their order) of the section
    paras = [u for u in units if blocks[u.block].kind == "para"]
    ranked = sorted(paras, key=lambda u: (-u.score, u.block, u.index))
    chosen = [ranked[0]]
    if len(ranked) > 1 and ranked[1].score > 0:
        chosen.append(ranked[1])
    chosen.sort(key=lambda u: (u.block, u.index))
    parts = [sentences(blocks[u.block].md)[u.index] for u in chosen]
    text = parts[0]
    if len(parts) > 1:  # sentences of one line run on; lines (a checklist's) stay lines
        a, b = chosen
        same_line = a.block == b.block and f"{parts[0]} {parts[1]}" in blocks[a.block].md
        text += (" " if same_line else "\n") + parts[1]
    if len(text) > limit and len(parts) > 1:
        text = parts[0] if chosen[0] is ranked[0] else parts[1]
    last = chosen[-1]
    follow = blocks[last.block + 1] if last.block + 1 < len(blocks) else None
    if follow is not None and text.rstrip().endswith(":") and \
            last.index == len(sentences(blocks[last.block].md)) - 1:
        if follow.kind == "code" and len(follow.md) <= CODE_CHARS:
            text += "\n" + follow.md
        elif follow.kind == "list":
            picked = list(range(min(MAX_ITEMS, len(_groups(follow.items)))))
            text += "\n" + _list_text(follow, picked, limit - len(text) - 1)
    return _cut(text, limit) if "```" not in text else text


def build_gist(question: str, title: str, body: str, section: str | None, passage: str = "",
               *, limit: int = GIST_CHARS) -> Gist | None:
    """The part of ``section`` (a chunk's section path) that answers ``question``, in Markdown.

    ``passage``: the matched chunk's text, so a long section's gist comes from the part that matched.
    None when the section is not in ``body`` (an index older than the article).
    """
    return gist_of_sections(question, parse_sections(body, title), section, passage, limit=limit)


def gist_of_sections(question: str, secs: list[Section], section: str | None, passage: str = "",
                     *, limit: int = GIST_CHARS) -> Gist | None:
    """:func:`build_gist` on an article already parsed into sections (which it only reads)."""
    at = _find_section(secs, section, passage)
    if at is None:
        return None
    blocks = _candidates(secs, at, passage)
    units = _units(blocks)
    _score(question, units)
    text = _compose(blocks, units, limit).strip()
    if not text:
        return None
    return Gist(text, section, secs[at].anchor if section else None)  # the top: the article link


@lru_cache(maxsize=256)
def _parsed(raw_text: str, path: str) -> tuple[str, list[Section]]:
    """An article file's title and sections, parsed once per text (answers repeat; the parse is the cost).

    Keyed by the file text itself, so a new version is parsed afresh; callers never change what it returns.
    """
    parsed = parse_article(raw_text, path)
    return parsed.title, parse_sections(parsed.body, parsed.title)


def article_gist(session: Session, article_id: str, question: str, section: str | None,
                 passage: str = "", *, limit: int = GIST_CHARS) -> Gist | None:
    """:func:`build_gist` on the article's current text (None when it cannot be read or parsed)."""
    try:
        art = show_article(session, article_id)
        _, secs = _parsed(str(art["text"]), str(art["path"]))
    except DataError:
        return None
    return gist_of_sections(question, secs, section, passage, limit=limit)
