"""The parse result and the parser interface every NLU backend implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np

OUT_OF_SCOPE = "out_of_scope"


@dataclass
class Entity:
    entity: str
    value: Any
    start: int
    end: int
    extractor: str = "RegexEntityExtractor"
    text: str | None = None

    def to_rasa(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "start": self.start,
            "end": self.end,
            "value": self.value,
            "extractor": self.extractor,
        }


@dataclass
class IntentScore:
    name: str
    confidence: float


@dataclass
class ParseResult:
    """Rasa-shaped understanding of one message."""

    text: str
    intent: IntentScore
    ranking: list[IntentScore] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    out_of_scope: bool = False

    def entity_values(self, name: str) -> list[Any]:
        return [e.value for e in self.entities if e.entity == name]

    def to_rasa(self) -> dict[str, Any]:
        """The response body of Rasa's ``POST /model/parse``."""
        return {
            "text": self.text,
            "intent": {"name": self.intent.name, "confidence": float(self.intent.confidence)},
            "intent_ranking": [
                {"name": s.name, "confidence": float(s.confidence)} for s in self.ranking
            ],
            "entities": [e.to_rasa() for e in self.entities],
        }


class IntentParser(Protocol):
    """Anything that turns text (and optionally its shared embedding) into a ParseResult."""

    def parse(self, text: str, embedding: np.ndarray | None = None) -> ParseResult: ...

    def parse_batch(self, texts: Sequence[str]) -> list[ParseResult]: ...
