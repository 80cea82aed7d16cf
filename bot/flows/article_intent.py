"""Does a message's intent agree with the article the knowledge base found? (the answer flow's second opinion)

An article's intent is the intent model's confident reading of its title card
(title, aliases and tags, with the card's stored vector: no encoding), cached
per article version and model version. A message agrees with an article when
its own confident, in-scope intent is that intent. The knowledge base still
picks the article; agreement only lowers the bar to answer with it
(``knowledge_base.search.INTENT_AGREEMENT_MARGIN``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from intents.api import OUT_OF_SCOPE, IntentParser, ParseResult
from knowledge_base.index import ArticleHit

if TYPE_CHECKING:
    from knowledge_base.service import KnowledgeBase

MAX_CACHED = 5000


class ArticleIntents:
    """The intent each article is about, read by the serving intent model (cached)."""

    def __init__(self, nlu: Callable[[], IntentParser], kb: Callable[[], KnowledgeBase],
                 high_confidence: float) -> None:
        self._nlu = nlu
        self._kb = kb
        self.high_confidence = high_confidence
        self._cache: dict[tuple[str, str, str], str | None] = {}
        self._lock = threading.Lock()

    def confident_intent(self, parse: ParseResult | None) -> str | None:
        """The parse's intent when it is in scope and at least ``high_confidence`` sure; else None."""
        if parse is None or parse.out_of_scope or parse.intent.name == OUT_OF_SCOPE:
            return None
        return parse.intent.name if parse.intent.confidence >= self.high_confidence else None

    def of(self, hit: ArticleHit) -> str | None:
        """The intent the article's title card is confidently about, or None."""
        parser = self._nlu()
        model = getattr(parser, "model", None)
        version = str(getattr(model, "meta", {}).get("version") or id(model))
        key = (hit.info.id, hit.info.content_hash, version)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        card = self._kb().card(hit.info.id)
        intent = None if card is None else self.confident_intent(parser.parse(card[0], embedding=card[1]))
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[key] = intent
        return intent

    def agree(self, parse: ParseResult | None, hit: ArticleHit) -> bool:
        """Whether the message's confident intent is the article's own."""
        asked = self.confident_intent(parse)
        return asked is not None and asked == self.of(hit)
