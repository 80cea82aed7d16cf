"""Turning search hits into a short answer: the best sentences, a quote, sources and related articles."""

from __future__ import annotations

import re

from knowledge_base.index import ArticleHit, ChunkHit
from knowledge_base.text import tokens

QUOTE_CHARS = 600
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")


def best_chunk(hit: ArticleHit) -> ChunkHit:
    """The section to quote: the best-matching chunk that is not the title card."""
    for chunk in hit.chunks:
        if not chunk.is_card:
            return chunk
    return hit.best


_BLOCK_START = re.compile(r"^\s*(?:[-*•+]\s|\d+[.)]\s|#|\||>)")


def unwrap(text: str) -> str:
    """Join hard-wrapped lines of a paragraph or list item (Markdown sources wrap at ~80 columns)."""
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            out.append("")
        elif out and out[-1] and not _BLOCK_START.match(line) and not out[-1].endswith(":"):
            out[-1] = out[-1] + " " + stripped
        else:
            out.append(stripped if not _BLOCK_START.match(line) else line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """A section excerpt short enough for Slack, cut at a sentence or line end."""
    text = unwrap(text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("\n"), cut.rfind("? "), cut.rfind("! "))
    if end > limit // 3:
        return cut[: end + 1].rstrip() + " …"
    return cut.rsplit(" ", 1)[0] + " …"


def summary_sentences(question: str, text: str, max_sentences: int = 2, max_chars: int = 320) -> str:
    """The one or two sentences of ``text`` that share the most words with the question, in order."""
    sentences = [s.strip().lstrip("-*• ").strip() for s in _SENTENCE.split(unwrap(text)) if s and len(s.strip()) > 3]
    if not sentences:
        return ""
    q = set(tokens(question))
    scored = sorted(range(len(sentences)), key=lambda i: (-len(q & set(tokens(sentences[i]))), i))
    chosen = sorted(scored[:max_sentences])
    out = " ".join(re.sub(r"\s+", " ", sentences[i]) for i in chosen)
    return out if len(out) <= max_chars else quote(out, max_chars)
