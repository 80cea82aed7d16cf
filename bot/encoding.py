"""The sentence-encoder seam: what intents and the knowledge base need from an encoder.

The implementation lives in ``intents.encoder`` (and is chosen by the
composition root); libraries depend only on this protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

# all-MiniLM-L6-v2 (the bundled encoder) embeds into 384 dimensions.
DIM = 384

Vector = npt.NDArray[np.float32]


class TextEncoder(Protocol):
    """Embeds text into unit-length float32 vectors (a dot product is a cosine)."""

    dim: int

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vector:
        """Shape ``(len(texts), dim)``."""
        ...

    def encode_one(self, text: str) -> Vector:
        """Shape ``(dim,)``."""
        ...


EncoderProvider = Callable[[], TextEncoder]

__all__ = ["DIM", "EncoderProvider", "TextEncoder", "Vector"]
