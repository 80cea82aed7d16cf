"""Does a message's intent agree with the article the knowledge base found? (the answer flow's second opinion)

An article's intent is the intent model's confident reading of its title card
(title, aliases and tags, with the card's stored vector: no encoding), cached
per article version and model version. A message agrees with an article when
its own confident intent (:func:`bot.flows.routing.confident`) is that intent.
The knowledge base still picks the article; agreement only lowers the bar to
answer with it (``knowledge_base.search.INTENT_AGREEMENT_MARGIN``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.errors import HelpdeskError
from bot.flows.routing import confident
from intents.api import IntentParser, ParseResult
from intents.settings import NluSettings
from knowledge_base.index import ArticleHit

if TYPE_CHECKING:
    from knowledge_base.service import KnowledgeBase

log = logging.getLogger(__name__)
MAX_CACHED = 5000
# A parser whose model cannot be named (a remote Rasa server): its readings are kept this long.
REMOTE_READING_SECONDS = 600


def model_key(parser: IntentParser) -> str:
    """What names the parser's current model: its fingerprint and saved version, or a time slot for a remote one."""
    model = getattr(parser, "model", None)
    if model is None:
        return f"remote-{int(time.monotonic() // REMOTE_READING_SECONDS)}"
    return f"{getattr(model, 'fingerprint', '')}:{getattr(model, 'meta', {}).get('version', '')}"


class ArticleIntents:
    """The intent each article is about, read by the serving intent model (cached)."""

    def __init__(self, nlu: Callable[[], IntentParser], kb: Callable[[], KnowledgeBase],
                 settings: Callable[[], NluSettings]) -> None:
        self._nlu = nlu
        self._kb = kb
        self._settings = settings
        self._cache: dict[tuple[str, str, str], str | None] = {}
        self._lock = threading.Lock()
        self._warned = False

    def of(self, hit: ArticleHit) -> str | None:
        """The intent the article's title card is confidently about, or None (also when it cannot be read)."""
        parser = self._nlu()
        key = (hit.info.id, hit.info.content_hash, model_key(parser))
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        card = self._kb().card(hit.info.id)
        if card is None:
            return None
        try:
            reading = parser.parse(card[0], embedding=card[1])
        except HelpdeskError as exc:  # the intent backend is down: no second opinion, the turn goes on
            if not self._warned:
                log.warning("could not read an article's intent: %s", exc.user_message)
                self._warned = True
            return None
        intent = reading.intent.name if confident(reading, self._settings()) else None
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[key] = intent
        return intent

    def agree(self, parse: ParseResult | None, hit: ArticleHit) -> bool:
        """Whether the message's confident intent is the article's own."""
        if parse is None or not confident(parse, self._settings()):
            return False
        return parse.intent.name == self.of(hit)
