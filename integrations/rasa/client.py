"""A remote Rasa server as the NLU backend (``nlu.backend = "rasa"``): ``POST /model/parse``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from bot.errors import ConfigError, NluBackendError
from intents.api import OUT_OF_SCOPE, Entity, IntentScore, ParseResult
from intents.settings import NluSettings

log = logging.getLogger(__name__)

# Rasa's fallback intent means "not understood": the bot treats it as out of scope.
FALLBACK_INTENTS = {"nlu_fallback", OUT_OF_SCOPE}


class RasaNluClient:
    """Implements :class:`intents.api.IntentParser` over Rasa's HTTP API."""

    backend = "rasa"

    def __init__(self, url: str, *, timeout: float = 5.0, token: str | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        params = {"token": token} if token else None
        self._client = httpx.Client(base_url=self.url, timeout=timeout, params=params,
                                    transport=transport)

    def parse(self, text: str, embedding: np.ndarray | None = None) -> ParseResult:
        """Ask the Rasa server; ``embedding`` is ignored (Rasa featurises the text itself)."""
        try:
            response = self._client.post("/model/parse", json={"text": text})
        except httpx.HTTPError as exc:
            raise NluBackendError(detail=f"Rasa at {self.url}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise NluBackendError(detail=f"Rasa at {self.url} answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise NluBackendError(detail=f"Rasa at {self.url} answered non-JSON") from None
        return from_rasa(body, text)

    def parse_batch(self, texts: Sequence[str]) -> list[ParseResult]:
        return [self.parse(t) for t in texts]

    def status(self) -> dict[str, Any]:
        try:
            response = self._client.get("/status")
            response.raise_for_status()
            return {"backend": self.backend, "url": self.url, **response.json()}
        except (httpx.HTTPError, ValueError) as exc:
            raise NluBackendError(detail=f"Rasa at {self.url}: {type(exc).__name__}") from None

    def close(self) -> None:
        self._client.close()


def build_rasa_parser(nlu: NluSettings) -> RasaNluClient:
    """The parser for ``nlu.backend = "rasa"`` (ConfigError without ``nlu.rasa_url``)."""
    if not nlu.rasa_url:
        raise ConfigError("nlu.backend is \"rasa\" but nlu.rasa_url is not set.")
    return RasaNluClient(nlu.rasa_url, timeout=nlu.rasa_timeout_seconds,
                         token=nlu.rasa_token.get_secret_value() if nlu.rasa_token else None)


def from_rasa(body: dict[str, Any], text: str = "") -> ParseResult:
    """Turn Rasa's parse response into a :class:`ParseResult` (tolerant of missing fields)."""
    if not isinstance(body, dict):
        raise NluBackendError(detail="Rasa answered an unexpected JSON shape")
    text = str(body.get("text", text))
    raw_intent = body.get("intent") or {}
    name = raw_intent.get("name") or OUT_OF_SCOPE
    confidence = float(raw_intent.get("confidence") or 0.0)
    ranking = [IntentScore(str(r.get("name")), float(r.get("confidence") or 0.0))
               for r in body.get("intent_ranking") or [] if r.get("name")]
    oos = name in FALLBACK_INTENTS
    intent = IntentScore(OUT_OF_SCOPE if oos else str(name), confidence)
    entities = []
    for item in body.get("entities") or []:
        try:
            entities.append(Entity.from_rasa(item, text))
        except (KeyError, TypeError, ValueError):
            log.debug("skipping malformed Rasa entity %r", item)
    return ParseResult(text=text, intent=intent, ranking=ranking or [intent], entities=entities,
                       out_of_scope=oos)
