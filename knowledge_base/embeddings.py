"""What the encoder sees for a chunk, and how its vector is stored in a database row."""

from __future__ import annotations

import numpy as np

from bot.encoding import Vector

MAX_EMBED_WORDS = 80  # chunks are at most ~80 words; the encoder reads ~256 word pieces


def embed_text(title: str, section: str | None, text: str) -> str:
    """What the encoder sees for a chunk: its title and section give the words context."""
    words = text.split()
    body = " ".join(words[:MAX_EMBED_WORDS])
    head = f"{title} - {section}" if section else title
    return f"{head}: {body}" if body else head


def to_bytes(vector: Vector) -> bytes:
    """A vector as stored in ``kb_chunk.embedding`` (float32, native order)."""
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(data: bytes | None, dim: int) -> Vector | None:
    """The stored vector, or None when absent or of another dimension."""
    if not data:
        return None
    vec = np.frombuffer(data, dtype=np.float32)
    return vec if vec.shape == (dim,) else None
