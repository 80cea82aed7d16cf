"""Split an article into searchable chunks along its section structure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge_base.markdown import to_plain

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
MAX_WORDS = 80  # longer sections are split at paragraph boundaries (short chunks rank better)
MIN_WORDS = 8    # tinier pieces are merged into their neighbour


@dataclass
class Section:
    """One heading's part of an article body."""

    level: int          # 0 = text before the first heading
    heading: str | None
    markdown: str
    line: int           # 1-based line of the heading (or body start) within the body


@dataclass
class Chunk:
    """A searchable piece of plain text, labelled with its section path."""

    ordinal: int
    section: str | None  # "Heading" or "Parent > Heading"
    text: str            # plain text


def sections(body: str) -> list[Section]:
    """The body's sections in order, code fences respected."""
    out: list[Section] = []
    current = Section(0, None, "", 1)
    buf: list[str] = []
    in_fence = False
    for n, line in enumerate(body.splitlines(), start=1):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        m = None if in_fence else _HEADING.match(line)
        if m:
            current.markdown = "\n".join(buf)
            out.append(current)
            current = Section(len(m.group(1)), to_plain(m.group(2)), "", n)
            buf = []
        else:
            buf.append(line)
    current.markdown = "\n".join(buf)
    out.append(current)
    return out


def _split_long(text: str) -> list[str]:
    words = text.split()
    if len(words) <= MAX_WORDS:
        return [text]
    pieces: list[str] = []
    cur: list[str] = []
    count = 0
    for para in re.split(r"\n\s*\n", text):
        n = len(para.split())
        if cur and count + n > MAX_WORDS:
            pieces.append("\n\n".join(cur))
            cur, count = [], 0
        if n > MAX_WORDS * 1.5:  # one huge paragraph: cut by words
            w = para.split()
            for i in range(0, len(w), MAX_WORDS):
                pieces.append(" ".join(w[i:i + MAX_WORDS]))
            continue
        cur.append(para)
        count += n
    if cur:
        pieces.append("\n\n".join(cur))
    return pieces


def chunk_article(title: str, body: str) -> list[Chunk]:
    """Chunks of plain text, each labelled with its section path."""
    chunks: list[Chunk] = []
    trail: list[tuple[int, str]] = []
    for sec in sections(body):
        if sec.heading is not None:
            while trail and trail[-1][0] >= sec.level:
                trail.pop()
            if sec.level > 1 or sec.heading.strip().lower() != title.strip().lower():
                trail.append((sec.level, sec.heading))
        label = " > ".join(h for _, h in trail) or None
        text = to_plain(sec.markdown)
        if not text:
            continue
        for piece in _split_long(text):
            if chunks and len(piece.split()) < MIN_WORDS and chunks[-1].section == label:
                chunks[-1].text += "\n" + piece
                continue
            chunks.append(Chunk(len(chunks), label, piece))
    return chunks
