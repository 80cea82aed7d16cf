"""The serving-path sentence encoder: all-MiniLM-L6-v2 on ONNX Runtime, torch-free.

Imports only numpy, ``onnxruntime`` and ``tokenizers`` (never torch, transformers or
sentence-transformers); the graph comes from :mod:`intents.onnx_export`. Vectors match the
sentence-transformers encoder (cosine >= 0.9999): same tokenizer, same 256-token truncation,
mean pooling and L2 normalisation inside the graph.

:class:`BatchingEncoder` wraps any encoder so that concurrent ``encode_one`` calls from many
threads share one model pass (micro-batching).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.encoding import DIM, TextEncoder, Vector
from intents.onnx_export import ExportedModel, find_export


class OnnxEncoder:
    """all-MiniLM-L6-v2 through ONNX Runtime; thread-safe (ONNX Runtime and the tokenizer are re-entrant)."""

    def __init__(self, model: ExportedModel, *, quantized: bool = False, threads: int = 0,
                 allow_spinning: bool = True) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # as intents.encoder: no fork warnings in servers
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = model.int8_path if quantized else model.fp32_path
        if path is None:
            raise FileNotFoundError(f"{model.directory} holds no int8 model (export it with int8=True)")
        self.dim = DIM
        self.quantized = quantized
        self.model = model
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads  # 0: one per physical core
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if allow_spinning else "0")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(model.tokenizer_path))
        tokenizer.no_padding()  # we pad per batch, to the batch's longest text
        tokenizer.enable_truncation(max_length=model.max_seq_length)
        self._tokenizer = tokenizer

    def _ids(self, texts: Sequence[str]) -> list[list[int]]:
        # sentence-transformers strips each text before tokenising
        return [e.ids for e in self._tokenizer.encode_batch([str(t).strip() for t in texts])]

    def _run(self, ids: Sequence[list[int]]) -> Vector:
        width = max(len(row) for row in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for i, row in enumerate(ids):
            input_ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        out = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
        return np.asarray(out, dtype=np.float32)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vector:
        """Embed many texts: shape (n, 384), float32, unit length, in the order given."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = self._ids(texts)
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))  # similar lengths share a batch: less padding
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        step = max(1, int(batch_size))
        bar = _Progress(len(ids)) if progress else None
        for start in range(0, len(order), step):
            part = order[start:start + step]
            out[part] = self._run([ids[i] for i in part])
            if bar is not None:
                bar.advance(len(part))
        if bar is not None:
            bar.close()
        return out

    def encode_one(self, text: str) -> Vector:
        """Embed one message: shape (384,)."""
        return self._run(self._ids([text]))[0]


class _Progress:
    """A rich progress bar with ETA (loaded only when asked for)."""

    def __init__(self, total: int) -> None:
        from rich.progress import Progress

        self._bar = Progress(transient=True)
        self._bar.start()
        self._task = self._bar.add_task("encoding", total=total)

    def advance(self, n: int) -> None:
        self._bar.advance(self._task, n)

    def close(self) -> None:
        self._bar.stop()


def load_onnx_encoder(root: Path, *, quantized: bool = False, version: str | None = None,
                      threads: int = 0) -> OnnxEncoder | None:
    """The ONNX encoder from the current export under ``root``, or ``None`` when there is none (no export here)."""
    model = find_export(root, version=version, need_int8=quantized)
    if model is None:
        return None
    return OnnxEncoder(model, quantized=quantized, threads=threads)


class _Request:
    __slots__ = ("done", "error", "text", "vector")

    def __init__(self, text: str) -> None:
        self.text = text
        self.done = False
        self.vector: Vector | None = None
        self.error: BaseException | None = None


class BatchingEncoder:
    """Coalesces concurrent ``encode_one`` calls into shared ``encode`` passes of the wrapped encoder.

    Flat combining, no background thread: a caller finding the model idle runs the pass itself, in its own
    thread (a lone caller pays no hand-off); callers arriving meanwhile queue up, and when the pass ends the
    next of them runs one pass for everybody queued (up to ``max_batch``). When the previous pass served
    several callers, the next one first waits up to ``max_wait_s`` for more. One pass at a time; each caller
    gets its own vector, or the exception of the pass its text was in. ``encode`` (bulk) goes straight to the
    wrapped encoder.
    """

    def __init__(self, inner: TextEncoder, *, max_wait_s: float = 0.002, max_batch: int = 64) -> None:
        self.inner = inner
        self.dim = inner.dim
        self.max_wait_s = max_wait_s
        self.max_batch = max(1, max_batch)
        self.calls = 0    # encode_one requests served
        self.batches = 0  # model passes they took
        self._cond = threading.Condition()
        self._pending: list[_Request] = []
        self._busy = False
        self._last_batch = 1

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vector:
        """Bulk embedding, passed through to the wrapped encoder."""
        return self.inner.encode(texts, batch_size=batch_size, progress=progress)

    def encode_one(self, text: str) -> Vector:
        """Embed one message, sharing the model pass with concurrent callers."""
        request = _Request(text)
        with self._cond:
            self._pending.append(request)
            while not request.done and self._busy:
                self._cond.wait()
            if not request.done:  # the model is idle and our text still waits: run a pass for the queue
                self._busy = True
                gather = self._last_batch > 1 and self.max_wait_s > 0
        if not request.done:
            if gather:
                time.sleep(self.max_wait_s)  # others are around: let their texts join this pass
            self._run_pass()
        if request.error is not None:
            raise request.error
        assert request.vector is not None
        return request.vector

    def _run_pass(self) -> None:
        with self._cond:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
        try:
            vectors = self.inner.encode([r.text for r in batch], batch_size=len(batch))
            for request, vector in zip(batch, vectors, strict=True):
                request.vector = np.array(vector, dtype=np.float32)  # a copy: callers may keep it
        except BaseException as exc:  # hand the failure to every caller of the pass
            for request in batch:
                request.error = exc
        with self._cond:
            for request in batch:
                request.done = True
            self.calls += len(batch)
            self.batches += 1
            self._last_batch = len(batch)
            self._busy = False
            self._cond.notify_all()

    def close(self) -> None:
        """Nothing to stop (no background thread); kept so callers may release encoders uniformly."""


__all__ = ["BatchingEncoder", "OnnxEncoder", "load_onnx_encoder"]
