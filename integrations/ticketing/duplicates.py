"""Does a new request look like one of the employee's open tickets?"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.encoding import TextEncoder
from integrations.ticketing.models import Ticket

_WORD = re.compile(r"[a-z0-9]+")
_STOP = set("""a an and are as at be been but by can cant could did do does doesnt dont for from get
got has have having help her his how i im is isnt it its ive just me my need no not of on or our
please problem issue ticket open still so some that the their them there this to too up us was
wasnt we were what when where which while who why will with wont work working would you your
again any all am also after before into out over very""".split())


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> set[str]:
    """The content words of ``text``, stemmed."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


def token_similarity(a: str, b: str) -> float:
    """Overlap coefficient of content words (0..1); 0 when fewer than two words are shared."""
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return 0.0
    shared = len(ta & tb)
    if shared < min(2, len(ta), len(tb)):
        return 0.0
    return shared / min(len(ta), len(tb))


def ticket_text(ticket: Ticket) -> str:
    """What a new request is compared with: the ticket's summary and the employee's words."""
    return f"{ticket.summary}. {ticket.employee_text}"


def find_duplicate(text: str, candidates: Sequence[Ticket], *, encoder: TextEncoder | None,
                   embedding_threshold: float, token_threshold: float) -> tuple[Ticket, float] | None:
    """The most similar open ticket above the threshold, with its score."""
    if not candidates or not text.strip():
        return None
    best: tuple[Ticket, float] | None = None
    if encoder is not None:
        vectors = encoder.encode([text, *[ticket_text(t) for t in candidates]])
        scores = [float(vectors[0] @ v) for v in vectors[1:]]
        threshold = embedding_threshold
    else:
        scores = [token_similarity(text, ticket_text(t)) for t in candidates]
        threshold = token_threshold
    for ticket, score in zip(candidates, scores, strict=True):
        if score >= threshold and (best is None or score > best[1]):
            best = (ticket, score)
    return best
