"""Tokenising for the lexical (BM25) half of retrieval."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
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
])


def stem(word: str) -> str:
    """A light suffix stripper: plurals and common verb endings (enough for IT questions)."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            base = word[: len(word) - len(suffix)] + repl
            if suffix in ("ing", "ed") and len(base) >= 4 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # running -> run
            return base
    return word


def tokens(text: str) -> list[str]:
    """Lower-cased, stop-word-free, lightly stemmed terms."""
    out = []
    for w in _WORD.findall(text.lower().replace("’", "'")):
        w = w.replace("'", "")
        if w in STOPWORDS or (len(w) < 2 and not w.isdigit()):
            continue
        out.append(stem(w))
    return out
