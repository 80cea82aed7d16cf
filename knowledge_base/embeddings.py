"""Turning chunks into vectors, reusing any vector already computed for the same text."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
MAX_EMBED_WORDS = 80  # chunks are at most ~80 words; the encoder reads ~256 word pieces


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def embed_text(title: str, section: str | None, text: str) -> str:
    """What the encoder sees for a chunk: its title and section give the words context."""
    words = text.split()
    body = " ".join(words[:MAX_EMBED_WORDS])
    head = f"{title} - {section}" if section else title
    return f"{head}: {body}" if body else head


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(data: bytes | None, dim: int) -> np.ndarray | None:
    if not data:
        return None
    vec = np.frombuffer(data, dtype=np.float32)
    return vec if vec.shape == (dim,) else None


class VectorFileCache:
    """An optional ``.npz`` cache keyed by text hash (scratch evaluations re-use vectors)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.items: dict[str, np.ndarray] = {}
        self.dirty = False
        if path and path.exists():
            try:
                with np.load(path, allow_pickle=False) as data:
                    for k, v in zip(data["keys"], data["vectors"]):
                        self.items[str(k)] = np.asarray(v, dtype=np.float32)
            except Exception as exc:  # noqa: BLE001 - a broken cache is only a lost speed-up
                log.warning("ignoring unreadable vector cache %s: %s", path, exc)

    def save(self) -> None:
        if not self.path or not self.dirty or not self.items:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.items), dtype="U40")
        vecs = np.vstack(list(self.items.values())).astype(np.float32)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp.npz")
        np.savez(tmp, keys=keys, vectors=vecs)
        os.replace(tmp, self.path)
        self.dirty = False


def encode_missing(encoder_provider: Callable[[], Any], texts: Sequence[str], known: dict[str, np.ndarray],
                   cache: VectorFileCache | None = None, progress: Callable[[int], None] | None = None,
                   batch_size: int = 64) -> list[np.ndarray]:
    """Vectors for ``texts``; only texts whose hash is in neither ``known`` nor ``cache`` are encoded."""
    keys = [text_hash(t) for t in texts]
    have = dict(known)
    if cache is not None:
        have.update({k: cache.items[k] for k in keys if k in cache.items and k not in have})
    todo = list(dict.fromkeys(k for k in keys if k not in have))
    if todo:
        by_key = dict(zip(keys, texts))
        encoder = encoder_provider()
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            vecs = encoder.encode([by_key[k] for k in batch])
            for k, v in zip(batch, vecs):
                have[k] = np.asarray(v, dtype=np.float32)
                if cache is not None:
                    cache.items[k] = have[k]
                    cache.dirty = True
            if progress:
                progress(len(batch))
    if cache is not None:
        cache.save()
    return [have[k] for k in keys]
