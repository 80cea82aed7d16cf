"""A file cache of sentence embeddings keyed by a hash of the text.

Re-encoding thousands of training sentences takes minutes on a small CPU;
evaluation, benchmarks and retraining reuse vectors from here. Stored as a
NumPy ``.npz`` (no pickle): ``keys`` (fixed-width hex digests) and ``vectors``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Embeds texts through ``encoder`` once; later calls read the file."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = Path(path) if path else None
        self._index: dict[str, int] = {}
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._dirty = False
        if self.path and self.path.exists():
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    keys = [str(k) for k in data["keys"]]
                    self._vectors = np.asarray(data["vectors"], dtype=np.float32)
                self._index = {k: i for i, k in enumerate(keys)}
            except Exception as exc:  # a corrupt cache is only a lost speed-up
                log.warning("ignoring unreadable embedding cache %s: %s", self.path, exc)

    def encode(self, encoder: Any, texts: Sequence[str], *, progress: Callable[[int], None] | None = None,
               batch_size: int = 256) -> np.ndarray:
        """Vectors for ``texts`` (n, dim), encoding only the ones not cached yet."""
        keys = [text_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in self._index}.items())
        if missing:
            new_vectors = []
            for start in range(0, len(missing), batch_size):
                chunk = [t for _, t in missing[start:start + batch_size]]
                new_vectors.append(encoder.encode(chunk))
                if progress:
                    progress(len(chunk))
            stacked = np.vstack(new_vectors).astype(np.float32)
            base = len(self._index)
            if self._vectors.size == 0:
                self._vectors = stacked
            else:
                self._vectors = np.vstack([self._vectors, stacked])
            for offset, (k, _) in enumerate(missing):
                self._index[k] = base + offset
            self._dirty = True
            self.save()
        if not texts:
            return np.zeros((0, getattr(encoder, "dim", 384)), dtype=np.float32)
        return self._vectors[[self._index[k] for k in keys]]

    def save(self) -> None:
        if not self.path or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(sorted(self._index, key=self._index.__getitem__), dtype="U40")
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp.npz")
        np.savez(tmp, keys=keys, vectors=self._vectors)
        os.replace(tmp, self.path)
        self._dirty = False
