"""Long pastes (logs, stack traces) summarised for understanding; the caller keeps the full text for a ticket.

A message like "VPN fails, here is the log: <3,000 characters>" is classified
and searched on what the person wrote plus the most telling log lines (the
first error/exception lines and the last line of a traceback), not on thousands
of characters of timestamps that drown the question in the sentence encoder.
"""

from __future__ import annotations

import re

from intents.api import Entity

LONG = 600  # shorter messages are understood as they are
_LOGGY = re.compile(r"^\s*(?:\d{4}-\d\d-\d\d|\d\d:\d\d:\d\d|\[\d|at [\w.$]+\(|File \"|\s{4}|[\w.]+Exception|"
                    r"Traceback|#\d+ |0x[0-9a-f]+|[A-Z]{3,} \d|\{|\}|<\w+>)")
_TELLING = re.compile(r"(?i)\b(?:error|exception|failed|failure|fatal|denied|refused|timed? ?out|cannot|"
                      r"unable|invalid|not found|expired)\b")


def summarise(text: str, *, limit: int = LONG, telling_lines: int = 3) -> str:
    """``text`` when short; else its prose lines plus a few telling log lines, at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    prose = [ln for ln in lines if not _LOGGY.match(ln) and len(ln) <= 300 and not _TELLING.search(ln)]
    telling = list(dict.fromkeys(ln.strip() for ln in lines if _TELLING.search(ln)))
    picked = prose[:5] + [t[:160] for t in telling[:telling_lines]]
    if not picked:
        picked = [text[: limit // 2]]
    summary = "\n".join(picked)
    return summary if len(summary) <= limit else summary[: limit - 1].rstrip() + "…"


def relocate(entities: list[Entity], summary: str, original: str) -> list[Entity]:
    """Entities found in a paste's summary, with offsets into the original message (where their text first is).

    The summary's lines are verbatim lines of the paste; an entity whose text is
    not found (cut at the summary's end) is dropped rather than pointing elsewhere.
    """
    if summary == original:
        return entities
    out = []
    for ent in entities:
        found = summary[ent.start:ent.end]
        at = original.find(found) if found else -1
        if at >= 0:
            ent.start, ent.end = at, at + len(found)
            out.append(ent)
    return out


__all__ = ["LONG", "relocate", "summarise"]
