"""Turning search hits into a short answer: the best sentences, a quote, sources and related articles."""

from __future__ import annotations

import re

from knowledge_base.gist import md_to_plain, sentences
from knowledge_base.index import ArticleHit, ChunkHit
from knowledge_base.text import tokens

QUOTE_CHARS = 600
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")


# "how do I …", "first day, how can I …", "how to …": the asker wants the steps, not a remark near its words
_ASKS_HOW = re.compile(r"^\W*(?:\w+[,!]?\s+){0,3}?how\s+(?:do|can|could|should|would|to)\b", re.I)
_STEP = re.compile(r"^\s*\d+[.)]\s", re.M)
# How far below the best section a step list may score and still be quoted for a "how do I" question.
# Chosen before looking (a tenth of the 0..1 fused scale); checked on the three dev corpora, where it changes
# two answers, both to the right section: 18F "first day, how do I log into slack" (profile set-up → the
# numbered sign-in steps) and the bundled "how do i get on the vpn when working from home" ("Personal
# computers", which matched "home" → the "Connect" steps), and no other.
STEPS_MARGIN = 0.1


def best_chunk(hit: ArticleHit) -> ChunkHit:
    """The section to quote: the best-matching chunk that is not the title card."""
    for chunk in hit.chunks:
        if not chunk.is_card:
            return chunk
    return hit.best


def asks_how(question: str) -> bool:
    """Whether the question asks how to do something ("how do I …", "how to …")."""
    return bool(_ASKS_HOW.search(question))


def has_steps(text: str) -> bool:
    """Whether a chunk holds a numbered list of at least two steps."""
    return len(_STEP.findall(text)) >= 2


def section_to_quote(hit: ArticleHit, question: str, scored: list[tuple[ChunkHit, float]]) -> ChunkHit:
    """:func:`best_chunk`, except that a "how do I" question gets the article's numbered steps when they score
    within ``STEPS_MARGIN`` of it. ``scored``: the article's chunks with their fused scores for the question."""
    chosen = best_chunk(hit)
    if not asks_how(question) or has_steps(chosen.text):
        return chosen
    chosen_score = next((score for chunk, score in scored if chunk.row == chosen.row), None)
    if chosen_score is None:  # scored on another state of the index (a sync in between): keep the search's pick
        return chosen
    floor = chosen_score - STEPS_MARGIN
    steps = [(score, chunk) for chunk, score in scored if not chunk.is_card and has_steps(chunk.text)
             and score >= floor]
    return max(steps, key=lambda pair: pair[0])[1] if steps else chosen


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
    return _fit(unwrap(text), limit)


def _fit(text: str, limit: int) -> str:
    """``text`` cut at a sentence or line end (or a word) to at most ``limit`` characters, marked '…'."""
    text = text.strip()
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


_WORD = re.compile(r"\w+")


def _words(text: str) -> str:
    """Text as its lower-case words, space separated and padded (links, bold and punctuation ignored)."""
    return " " + " ".join(_WORD.findall(md_to_plain(text).lower())) + " "


def quote_beyond(gist: str, passage: str, limit: int = QUOTE_CHARS) -> str | None:
    """The quote shown under an answer's gist: ``passage`` without the sentences, list items and table
    rows the gist already shows, or None when the gist shows them all (the answer keeps its link to the
    full section). A sentence the gist left out is never dropped: it may be the step that answers.
    A line ending with ':' (a lead-in, a section label) is shown only with the line after it. The
    passage is a chunk's text, whose lines are meant (rows, items, code lines): none is joined to
    the next."""
    shown = _words(gist)
    units: list[tuple[int, str, bool, bool]] = []  # (line, unit, lead-in, already shown)
    lines = passage.splitlines()
    for n, line in enumerate(lines):
        parts = sentences(line)
        for unit in [line.rstrip()] if _BLOCK_START.match(line) or len(parts) < 2 else parts:
            words = _words(unit)
            if words.strip():
                units.append((n, unit, unit.endswith(":"), words in shown))
    counted = [seen for _, _, lead, seen in units if not lead]
    if not any(counted):  # nothing shown twice (or only lead-ins): the passage as it is
        return _fit(passage, limit) or None
    kept: dict[int, list[str]] = {}
    for i, (n, unit, lead, seen) in enumerate(units):
        nxt = next((u for u in units[i + 1:] if not u[2]), None)
        if not seen and (not lead or (nxt is not None and not nxt[3])):
            kept.setdefault(n, []).append(unit)
    text = "\n".join(" ".join(kept[n]) if n in kept else "" for n in range(len(lines))
                     if n in kept or not lines[n].strip())
    return _fit(re.sub(r"\n{3,}", "\n\n", text), limit) or None
