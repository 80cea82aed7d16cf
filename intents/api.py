"""The parse result and the parser interface every NLU backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

OUT_OF_SCOPE = "out_of_scope"


@dataclass
class Entity:
    """An entity found in a message (Rasa's shape: offsets into the text)."""

    entity: str
    value: Any
    start: int
    end: int
    extractor: str = "RegexEntityExtractor"
    text: str | None = None
    processors: list[str] = field(default_factory=list)
    confidence_entity: float | None = None

    def to_rasa(self) -> dict[str, Any]:
        """One item of Rasa's ``entities`` list (``processors`` only when a synonym applied)."""
        out: dict[str, Any] = {
            "entity": self.entity,
            "start": self.start,
            "end": self.end,
            "value": self.value,
            "extractor": self.extractor,
        }
        if self.confidence_entity is not None:
            out["confidence_entity"] = self.confidence_entity
        if self.processors:
            out["processors"] = list(self.processors)
        return out

    @classmethod
    def from_rasa(cls, data: dict[str, Any], text: str = "") -> Entity:
        start, end = int(data.get("start", 0)), int(data.get("end", 0))
        return cls(entity=str(data["entity"]), value=data.get("value"), start=start, end=end,
                   extractor=str(data.get("extractor", "unknown")),
                   text=text[start:end] if text else None,
                   processors=list(data.get("processors", [])),
                   confidence_entity=data.get("confidence_entity"))


@dataclass
class IntentScore:
    """An intent and its confidence."""

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

    @property
    def confidence(self) -> float:
        return float(self.intent.confidence)

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
