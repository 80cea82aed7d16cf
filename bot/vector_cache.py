"""A file cache of sentence embeddings keyed by a hash of the text (foundation: imports only ``bot.encoding``).

Re-encoding thousands of sentences takes minutes on a small CPU; training,
evaluation and benchmarks reuse vectors from here. Stored as a NumPy ``.npz``
(no pickle): ``keys`` (SHA-1 hex digests of the texts) and ``vectors``.
Without a path the cache lives in memory only (one import, one evaluation).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from bot.encoding import DIM, EncoderProvider, Vector

log = logging.getLogger(__name__)


def text_key(text: str) -> str:
    """The cache key of a text: its SHA-1 hex digest (40 characters)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class VectorFileCache:
    """Vectors by text key, loaded from and saved to an optional ``.npz`` file."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path else None
        self.items: dict[str, Vector] = {}
        self.dirty = False
        if self.path and self.path.exists():
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    for key, vector in zip(data["keys"], data["vectors"], strict=True):
                        self.items[str(key)] = np.asarray(vector, dtype=np.float32)
            except Exception as exc:  # noqa: BLE001 - a broken cache is only a lost speed-up
                log.warning("ignoring unreadable vector cache %s: %s", self.path, exc)
                self.items = {}

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, key: object) -> bool:
        return key in self.items

    def get(self, key: str) -> Vector | None:
        """The cached vector for a text key, or None."""
        return self.items.get(key)

    def put(self, key: str, vector: Vector) -> None:
        """Remember one vector (written on the next :meth:`save`)."""
        self.items[key] = np.asarray(vector, dtype=np.float32)
        self.dirty = True

    def save(self) -> None:
        """Write the file atomically when something was added (no-op without a path)."""
        if not self.path or not self.dirty or not self.items:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.items), dtype="U40")
        vectors = np.vstack(list(self.items.values())).astype(np.float32)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp.npz")
        np.savez(tmp, keys=keys, vectors=vectors)
        os.replace(tmp, self.path)
        self.dirty = False

    def encode(self, encoder: EncoderProvider, texts: Sequence[str], *,
               known: Mapping[str, Vector] | None = None, progress: Callable[[int], None] | None = None,
               batch_size: int = 64) -> Vector:
        """Vectors for ``texts``, shape ``(len(texts), dim)``.

        Only texts whose key is in neither ``known`` (e.g. vectors already stored
        in a database) nor the cache are encoded, each once, longest first and in
        batches of ``batch_size``; ``encoder`` is called only when one is needed.
        New vectors are added to the cache and the file is saved.
        """
        keys = [text_key(t) for t in texts]
        have: dict[str, Vector] = dict(known or {})
        # longest first: a batch pads to its longest text, so similar lengths share a batch
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True)
                          if k not in have and k not in self.items}.items(),
                         key=lambda kt: (-len(kt[1]), kt[0]))
        if missing:
            model = encoder()
            for start in range(0, len(missing), batch_size):
                batch = missing[start:start + batch_size]
                vectors = model.encode([t for _, t in batch])
                for (key, _), vector in zip(batch, vectors, strict=True):
                    self.put(key, vector)
                if progress:
                    progress(len(batch))
        self.save()
        if not keys:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.vstack([have[k] if k in have else self.items[k] for k in keys]).astype(np.float32)


__all__ = ["VectorFileCache", "text_key"]
