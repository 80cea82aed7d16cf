"""A trained NLU model: classifier + distance model + out-of-scope operating point + entities, and its parse step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from intents.api import OUT_OF_SCOPE, IntentScore, ParseResult
from intents.classifier import IntentClassifier
from intents.distance import DistanceModel
from intents.entities import EntityConfig, EntityExtractor
from intents.scope import OperatingPoint, ScopeDecision, decide

RANKING_SIZE = 10
ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass
class IntentModel:
    """Everything needed to parse a message given its embedding."""

    classifier: IntentClassifier
    entities: EntityConfig
    oos_threshold: float
    fingerprint: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    distance: DistanceModel | None = None  # None in models saved before the distance check existed
    max_distance: float | None = None

    def __post_init__(self) -> None:
        self.extractor = EntityExtractor(self.entities)

    @property
    def intents(self) -> list[str]:
        return list(self.classifier.classes)

    @property
    def operating_point(self) -> OperatingPoint:
        """The out-of-scope rule's threshold and maximum distance (None: no distance check)."""
        max_distance = self.max_distance if self.distance is not None else None
        return OperatingPoint(self.oos_threshold, max_distance)

    def decide(self, probs: np.ndarray, embeddings: np.ndarray) -> ScopeDecision:
        """Per row: the best in-scope class, its probability, the out-of-scope flag and its confidence."""
        point = self.operating_point
        distance = self.distance.min_distance(embeddings) if self.distance and point.max_distance is not None \
            else None
        return decide(probs, self.classifier.classes, point, distance)

    def parse_many(self, texts: Sequence[str], embeddings: np.ndarray) -> list[ParseResult]:
        """Understand ``texts`` given their embeddings (one row each)."""
        probs = self.classifier.predict_proba(embeddings, texts)
        decision = self.decide(probs, embeddings)
        classes = self.classifier.classes
        results = []
        for row, text in enumerate(texts):
            p = probs[row]
            order = np.argsort(-p)[:RANKING_SIZE]
            ranking = [IntentScore(classes[j], float(p[j])) for j in order]
            confidence = float(decision.confidence[row])
            if decision.out_of_scope[row]:
                intent = IntentScore(OUT_OF_SCOPE, confidence)
                ranking = [intent] + [s for s in ranking if s.name != OUT_OF_SCOPE][:RANKING_SIZE - 1]
            else:
                intent = IntentScore(classes[decision.best[row]], confidence)
            results.append(ParseResult(text=text, intent=intent, ranking=ranking,
                                       entities=self.extractor.extract(text),
                                       out_of_scope=bool(decision.out_of_scope[row])))
        return results

    def parse_one(self, text: str, embedding: np.ndarray) -> ParseResult:
        return self.parse_many([text], np.asarray(embedding, dtype=np.float32).reshape(1, -1))[0]

    # --- persistence ------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "classifier": self.classifier.to_json(),
            "entities": self.entities.to_json(),
            "oos_threshold": self.oos_threshold,
            **({"max_distance": self.max_distance} if self.operating_point.max_distance is not None else {}),
            "fingerprint": self.fingerprint,
            "encoder": ENCODER_NAME,
            **{k: v for k, v in self.meta.items() if k not in ("classifier", "entities")},
        }

    def arrays(self) -> dict[str, np.ndarray]:
        """The weights file's arrays: the classifier's, and the distance model's when there is one."""
        return {**self.classifier.arrays(), **(self.distance.arrays() if self.distance else {})}

    @classmethod
    def from_saved(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> IntentModel:
        extra = {k: v for k, v in meta.items()
                 if k not in ("classifier", "entities", "oos_threshold", "max_distance", "fingerprint")}
        max_distance = meta.get("max_distance")
        distance = DistanceModel.from_saved(arrays)
        if max_distance is not None and distance is None:
            raise KeyError("the distance model's arrays (the model has a maximum distance)")
        return cls(classifier=IntentClassifier.from_saved(meta["classifier"], arrays),
                   entities=EntityConfig.from_json(meta.get("entities", {})),
                   oos_threshold=float(meta["oos_threshold"]),
                   fingerprint=str(meta.get("fingerprint", "")), meta=extra,
                   distance=distance,
                   max_distance=float(max_distance) if max_distance is not None else None)
