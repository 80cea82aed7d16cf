"""Paraphrases of employees' questions by template and synonym rewrites (for the replay benchmark).

Deterministic for a given ``random.Random``: openers and closers people type
("quick question:", "thanks"), synonyms and question frames ("how do i" →
"how can i"), dropped filler words and the odd typo. Each paraphrase keeps the
question's meaning, so its gold articles stay those of the question it came from.
"""

from __future__ import annotations

import random
import re

SYNONYMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("how do i", ("how can i", "how should i", "what's the way to", "what do i do to")),
    ("how can i", ("how do i", "how would i", "is there a way to")),
    ("where do i", ("where can i", "where should i")),
    ("where can i", ("where do i", "where would i")),
    ("what is", ("what's",)),
    ("what are", ("which are",)),
    ("do i have to", ("do i need to", "must i", "am i required to")),
    ("do i need to", ("do i have to", "must i")),
    ("can i", ("am i able to", "may i", "is it ok to")),
    ("i need", ("i want", "i have to", "i'd like")),
    ("want to", ("would like to", "need to")),
    ("don't", ("do not",)), ("dont", ("do not",)), ("can't", ("cannot",)), ("cant", ("cannot",)),
    ("is there", ("do we have",)),
    ("laptop", ("computer", "machine", "work laptop")),
    ("computer", ("laptop", "machine")),
    ("get", ("obtain", "receive", "get hold of")),
    ("use", ("make use of", "work with")),
    ("set up", ("configure", "setup")),
    ("request", ("ask for", "apply for")),
    ("find", ("locate", "look up")),
    ("company", ("org", "organisation")),
    ("email", ("e-mail", "mail")),
    ("meeting", ("call",)),
    ("phone", ("mobile", "cell phone")),
    ("policy", ("rules", "guidelines")),
    ("rules", ("policy", "guidelines")),
    ("allowed", ("permitted", "ok")),
    ("help", ("assistance", "support")),
    ("manager", ("boss", "lead")),
    ("buy", ("purchase",)),
    ("start", ("begin",)),
    ("vacation", ("holiday", "pto", "time off")),
    ("leave", ("time off",)),
    ("quickly", ("fast",)),
    ("team", ("group",)),
    ("new", ("a new",)),
    ("my", ("our",)),
)
OPENERS = ("hi, ", "hey ", "quick question: ", "hello - ", "can someone tell me ", "i was wondering ",
           "sorry if this is obvious but ", "question: ", "help! ")
CLOSERS = ("?", " thanks", " please", " - any idea?", "??", " thx", " asap")
FILLERS = re.compile(r"\b(?:just|really|actually|basically|please|pls|quickly)\s+")


def _typo(text: str, rng: random.Random) -> str:
    """Two adjacent letters swapped in one longer word (people type fast)."""
    words = [m for m in re.finditer(r"[a-z]{6,}", text)]
    if not words:
        return text
    m = rng.choice(words)
    i = m.start() + rng.randrange(1, len(m.group(0)) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def rewrite(question: str, rng: random.Random) -> str:
    """One paraphrase of ``question`` (may, rarely, equal it: the caller drops repeats)."""
    text = " ".join(question.strip().lower().split()).rstrip("?.! ")
    subs = [(w, alts) for w, alts in SYNONYMS if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)]
    rng.shuffle(subs)
    for word, alts in subs[: rng.randint(1, 3)]:
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", rng.choice(alts), text, count=1)
    if rng.random() < 0.5:
        text = FILLERS.sub("", text)
    if rng.random() < 0.45:
        text = rng.choice(OPENERS) + text
    if rng.random() < 0.6:
        text += rng.choice(CLOSERS)
    if rng.random() < 0.15:
        text = _typo(text, rng)
    return text


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def paraphrases(question: str, n: int, rng: random.Random) -> list[str]:
    """Up to ``n`` distinct paraphrases of ``question`` (none equal to it, up to case and punctuation)."""
    seen = {_norm(question)}
    out: list[str] = []
    for _ in range(n * 15):
        p = rewrite(question, rng)
        if _norm(p) not in seen:
            seen.add(_norm(p))
            out.append(p)
            if len(out) == n:
                break
    return out


__all__ = ["paraphrases", "rewrite"]
