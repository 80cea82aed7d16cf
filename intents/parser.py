"""The built-in parser: the shared encoder + the trained :class:`IntentModel`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bot.encoding import EncoderProvider, TextEncoder
from intents.api import ParseResult
from intents.model import IntentModel


class BuiltinParser:
    """Implements :class:`intents.api.IntentParser` with the process's one sentence encoder."""

    backend = "builtin"

    def __init__(self, model: IntentModel, encoder_provider: EncoderProvider) -> None:
        self.model = model
        self._encoder_provider = encoder_provider

    @property
    def encoder(self) -> TextEncoder:
        """The shared sentence encoder (loaded on first use)."""
        return self._encoder_provider()

    def parse(self, text: str, embedding: np.ndarray | None = None) -> ParseResult:
        """Understand one message; pass ``embedding`` when the caller already has it."""
        if embedding is None:
            embedding = self.encoder.encode_one(text)
        return self.model.parse_one(text, embedding)

    def parse_batch(self, texts: Sequence[str], embeddings: np.ndarray | None = None) -> list[ParseResult]:
        """Understand many messages at once (one batched encoder call)."""
        texts = list(texts)
        if not texts:
            return []
        if embeddings is None:
            embeddings = self.encoder.encode(texts)
        return self.model.parse_many(texts, embeddings)

    def status(self) -> dict[str, Any]:
        """Rasa-like ``/status`` facts about the loaded model."""
        return {
            "backend": self.backend,
            "model_file": self.model.meta.get("version"),
            "fingerprint": self.model.fingerprint,
            "intents": self.model.intents,
            "oos_threshold": self.model.oos_threshold,
            # the out-of-scope rule's second bound (None: a model saved before it, probability only)
            "max_distance": self.model.operating_point.max_distance,
        }
