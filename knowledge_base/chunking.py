"""Split an article into searchable chunks along its section structure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge_base.structure import Block, item_line, parse_sections

# Bump when chunk texts change: `kb import` then re-chunks every article once (3: a subtitle or description
# joined the card; only changed texts are encoded again).
CHUNK_FORMAT = 3
MAX_WORDS = 80  # longer sections are split at paragraph boundaries (short chunks rank better)
MIN_WORDS = 8    # tinier pieces are merged into their neighbour
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


@dataclass
class Chunk:
    """A searchable piece of plain text, labelled with its section path."""

    ordinal: int
    section: str | None  # "Heading" or "Parent > Heading"
    text: str            # plain text


def _units(block: Block) -> list[tuple[str, str | None]]:
    """What a chunk may not cut, each with the line a piece starting there repeats for context:
    a list item with its sub-items (a sub-item: its parent item), a table row, a line or sentence."""
    if block.kind == "list":
        groups: list[list[str]] = []
        for item in block.items:
            if item.depth == 0 or not groups:
                groups.append([])
            groups[-1].append(item_line(item, plain=True))
        out: list[tuple[str, str | None]] = []
        for g in groups:  # an item keeps its sub-items unless together they are too long for one chunk
            if _words("\n".join(g)) <= MAX_WORDS * 1.5:
                out.append(("\n".join(g), None))
            else:
                out += [(g[0], None)] + [(line, g[0]) for line in g[1:]]
        return out
    if block.kind == "para" and _words(block.plain) > MAX_WORDS * 1.5:
        return [(part, None) for line in block.plain.splitlines()
                for part in (_SENTENCE_END.split(line) if _words(line) > MAX_WORDS else [line]) if part.strip()]
    return [(u, None) for u in block.units()]


def _block_groups(blocks: list[Block]) -> list[list[int]]:
    """Blocks that belong together: a paragraph ending with ':' stays with the block it introduces."""
    groups: list[list[int]] = []
    joined = False
    for b, block in enumerate(blocks):
        if joined:
            groups[-1].append(b)
        else:
            groups.append([b])
        joined = block.kind == "para" and block.plain.rstrip().endswith(":")
    return groups


def _words(text: str) -> int:
    return len(text.split())


def _pieces(blocks: list[Block]) -> list[str]:
    """The section's text in pieces of about MAX_WORDS words: cut between blocks where possible, inside a
    long block only between its units; a long list's later pieces repeat the sentence that introduces it."""
    pieces: list[str] = []
    cur: list[tuple[int, str]] = []
    count = 0
    for group in _block_groups(blocks):
        n = sum(_words(blocks[b].plain) for b in group)
        if cur and count + n > MAX_WORDS:
            pieces.append(_join(cur))
            cur, count = [], 0
        if n <= MAX_WORDS * 1.5:
            cur += [(b, blocks[b].plain) for b in group]
            count += n
            continue
        intro = _SENTENCE_END.split(blocks[group[0]].plain)[-1] if len(group) > 1 else None
        for b in group:
            for unit, context in _units(blocks[b]):
                if cur and count + _words(unit) > MAX_WORDS:
                    pieces.append(_join(cur))
                    cur, count = [], 0
                    lead = context or (intro if b != group[0] else None)
                    if lead and _words(lead) <= 30:
                        cur, count = [(b if context else group[0], lead)], _words(lead)
                cur.append((b, unit))
                count += _words(unit)
    if cur:
        pieces.append(_join(cur))
    return pieces


def _join(units: list[tuple[int, str]]) -> str:
    out = units[0][1]
    for (prev, _), (b, unit) in zip(units, units[1:], strict=False):
        out += ("\n" if b == prev else "\n\n") + unit
    return out


def chunk_article(title: str, body: str) -> list[Chunk]:
    """Chunks of indexable text, each labelled with its section path; long sections split between blocks."""
    chunks: list[Chunk] = []
    for sec in parse_sections(body, title):
        label = sec.label()
        for piece in _pieces(sec.blocks):
            if chunks and len(piece.split()) < MIN_WORDS and chunks[-1].section == label:
                chunks[-1].text += "\n" + piece
                continue
            chunks.append(Chunk(len(chunks), label, piece))
    return chunks
