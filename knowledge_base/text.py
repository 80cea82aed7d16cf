"""Tokenising for the lexical (BM25) half of retrieval.

Words are matched with their apostrophes, so a contraction (``don't``, ``I'm``)
is checked against the stop words *before* anything is stripped; a possessive
``'s`` is then dropped and the rest stemmed with the Snowball English stemmer
(PyStemmer), so ``update``, ``updated`` and ``updates`` are one term. A
hyphenated or dotted product name (``wi-fi``, ``e-mail``, ``node.js``) also
counts as its joined form. "IT" written in capitals is the department, a term,
not the stop word "it".
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+(?:['][a-z]+)*(?:[-.][a-z0-9]+)*")
STOPWORDS = frozenset([
    'a', 'about', 'above', 'after', 'again', 'against', 'all', 'am', 'an', 'and', 'any', 'are', "aren't", 'as',
    'at', 'be', 'because', 'been', 'before', 'being', 'below', 'between', 'both', 'but', 'by', 'can', "can't",
    'cannot', 'could', "couldn't", 'did', "didn't", 'do', 'does', "doesn't", 'doing', "don't", 'down', 'during',
    'each', 'even', 'ever', 'few', 'for', 'from', 'further', 'get', 'gets', 'got', 'had', "hadn't", 'has',
    "hasn't", 'have', "haven't", 'having', 'he', 'her', 'here', 'hers', 'herself', 'him', 'himself', 'his',
    'how', 'i', "i'd", "i'll", "i'm", "i've", 'if', 'in', 'into', 'is', "isn't", 'it', "it's", 'its', 'itself',
    'just', "let's", 'like', 'me', 'more', 'most', 'much', 'must', 'my', 'myself', 'need', 'needs', 'no', 'nor',
    'not', 'now', 'of', 'off', 'on', 'once', 'only', 'or', 'other', 'ought', 'our', 'ours', 'ourselves', 'out',
    'over', 'own', 'please', 'same', 'shall', 'she', 'should', "shouldn't", 'so', 'some', 'still', 'such',
    'than', 'that', "that's", 'the', 'their', 'theirs', 'them', 'themselves', 'then', 'there', "there's",
    'these', 'they', "they're", 'this', 'those', 'through', 'to', 'too', 'under', 'until', 'up', 'upon', 'us',
    'very', 'via', 'was', "wasn't", 'we', "we're", 'were', "weren't", 'what', "what's", 'when', 'where',
    'which', 'while', 'who', 'whom', 'why', 'will', 'with', "won't", 'would', "wouldn't", 'yet', 'you',
    "you're", 'your', 'yours', 'yourself', 'yourselves', 'also', 'actually', 'anyone', 'anything', 'someone',
    'something', 'thing', 'things', 'way', 'ok', 'okay', 'hi', 'hello', 'hey', 'thanks', 'thank', 'really',
    'im', 'ive', 'dont', 'cant', 'whats', 'wont', 'youre', 'isnt', 'doesnt', 'didnt', 'one', 'want', 'wanted',
    # contractions the list above did not spell out (they used to survive as terms like "youll", "weve")
    "you'll", "you've", "you'd", "we'll", "we've", "we'd", "they'll", "they've", "they'd", "he's", "she's",
    "he'll", "she'll", "he'd", "she'd", "who's", "where's", "how's", "when's", "why's", "here's", "mustn't",
    "needn't", "y'all", "ain't", "it'll", "that'll", "there'll", "could've", "should've", "would've",
])


class _LightStemmer:
    """The fallback when PyStemmer is not installed: plurals and common verb endings."""

    @staticmethod
    def stemWord(word: str) -> str:  # noqa: N802 - PyStemmer's spelling
        for suffix, repl in (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "e"),
                             ("s", "")):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                if suffix == "s" and word.endswith(("ss", "us", "is")):
                    return word
                return word[: len(word) - len(suffix)] + repl
        return word


@lru_cache(maxsize=1)
def _stemmer() -> object:
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # pragma: no cover - PyStemmer is a dependency
        return _LightStemmer()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball English stem of ``word`` (``updated``/``update``/``updates`` → ``updat``)."""
    if len(word) <= 3 or word.isdigit():
        return word
    return str(_stemmer().stemWord(word))  # type: ignore[attr-defined]


# "IT" in capitals is the department, not the pronoun "it" (unless the whole text is shouted); a ticket
# key such as IT-42 stays as it was
_DEPARTMENT = re.compile(r"(?<![\w.-])IT(?![\w]|[-.]\w)")
DEPARTMENT_TERM = "itdept"


def tokens(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed terms (contractions checked whole, before any stripping)."""
    out = []
    if "IT" in text and any(c.islower() for c in text):
        text = _DEPARTMENT.sub(DEPARTMENT_TERM, text)
    for w in _WORD.findall(text.lower().replace("’", "'").replace("‘", "'")):
        if w in STOPWORDS:
            continue
        if "-" in w or "." in w:
            parts = [p for p in re.split(r"[-.]", w) if p]
            joined = "".join(parts)
            out += [stem(p) for p in parts if p not in STOPWORDS and (len(p) >= 2 or p.isdigit())]
            if len(parts) > 1 and len(joined) <= 12:
                out.append(stem(joined))
            continue
        w = w.removesuffix("'s").replace("'", "")
        if w in STOPWORDS or (len(w) < 2 and not w.isdigit()):
            continue
        out.append(stem(w))
    return out
