"""A one-byte copy of a large index's vectors, scored by ONNX Runtime, with a bound on each score's error.

Scoring every row of a 100,000-chunk index in float32 reads 150 MB per question and is bound by memory
bandwidth (about 7 ms here, with a long tail when neighbours share the bus). The same product over an
8-bit copy (``com.microsoft.MatMulNBits``, blocks of 128) reads a quarter of that and takes about 1 ms.

Each approximate score comes with a bound on how far off it is (:meth:`QuantizedScan.scores`): the index
re-scores exactly every row the bounds cannot rule out, so a ranking is the same as with float32 scores
everywhere. A runtime whose kernel breaks the bounds on the start-up check is not used (:func:`build_scan`).
A re-pack after many changes can run in a thread while the old copy serves (:class:`BackgroundPack`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)

BLOCK = 128          # values sharing one scale, in the stored copy and in the question
MIN_ROWS = 20_000    # below this the float32 matrix fits the CPU caches and the exact product is as fast
STALE_LIMIT = 2_048  # rows changed since packing, scored exactly on each question, before the copy is re-packed
_LEVELS = 127        # int8: values -127..127 (stored around a zero point of 128)
_PACK_ROWS = 8_192   # rows packed at a time (bounds the temporaries)
_FLOAT_SLACK = 5e-5  # float32 summation and scaling inside the kernel, per unit of |q|
# a background re-pack runs this much nicer (Linux: per thread), so questions asked meanwhile come first
PACKING_NICENESS = 10


def _on_grid(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round rows to int8 per block of :data:`BLOCK` (scale = the block's largest magnitude / 127).

    Returns the integers and the scales. A question already on this grid is not rounded again by the kernel
    (it quantizes the question the same way), so the kernel's score is exact for the rounded question.
    """
    blocks = values.reshape(len(values), -1, BLOCK)
    scale = np.abs(blocks).max(axis=2) / _LEVELS
    scale[scale == 0] = 1.0
    return np.clip(np.rint(blocks / scale[..., None]), -_LEVELS, _LEVELS), scale.astype(np.float32)


class QuantizedScan:
    """Approximate scores of a question against ``rows`` packed vectors."""

    def __init__(self, vectors: np.ndarray) -> None:
        import onnxruntime as ort
        from onnx import TensorProto, helper, numpy_helper

        rows, dim = vectors.shape
        self.rows = rows
        self.dim = dim
        self.width = math.ceil(dim / BLOCK) * BLOCK
        packed = np.empty((rows, self.width // BLOCK, BLOCK), dtype=np.uint8)
        scales = np.empty((rows, self.width // BLOCK), dtype=np.float32)
        # per row: how far the stored copy is from the vector, and the copy's length (the error bounds)
        self.stored_error = np.empty(rows, dtype=np.float32)
        self.stored_norm = np.empty(rows, dtype=np.float32)
        for start in range(0, rows, _PACK_ROWS):
            part = np.zeros((min(_PACK_ROWS, rows - start), self.width), dtype=np.float32)
            part[:, :dim] = vectors[start:start + len(part)]
            ints, scale = _on_grid(part)
            restored = (ints * scale[..., None]).reshape(len(part), self.width)
            self.stored_error[start:start + len(part)] = np.linalg.norm(restored - part, axis=1)
            self.stored_norm[start:start + len(part)] = np.linalg.norm(restored, axis=1)
            packed[start:start + len(part)] = (ints + 128).astype(np.uint8)
            scales[start:start + len(part)] = scale
        node = helper.make_node("MatMulNBits", ["q", "B", "scales"], ["scores"], domain="com.microsoft",
                                K=self.width, N=rows, bits=8, block_size=BLOCK, accuracy_level=4)
        graph = helper.make_graph(
            [node], "quantized_scan",
            [helper.make_tensor_value_info("q", TensorProto.FLOAT, [1, self.width])],
            [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, rows])],
            initializer=[numpy_helper.from_array(packed, "B"), numpy_helper.from_array(scales.reshape(-1), "scales")])
        del packed, scales
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                        helper.make_opsetid("com.microsoft", 1)])
        options = ort.SessionOptions()
        # idle threads sleep instead of spinning: a spinning pool steals the CPU from the rest of the turn
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(model.SerializeToString(), options,
                                             providers=["CPUExecutionProvider"])

    def scores(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Approximate scores for rows ``0..rows-1``, and for each the most it can be off by.

        The question q is rounded to q' on the kernel's grid and each stored vector x is a rounded x', so
        q.x - q'.x' = q.(x - x') + (q - q').x'  and  |q.x - q'.x'| <= |q| |x - x'| + |q - q'| |x'|.
        """
        q = np.zeros((1, self.width), dtype=np.float32)
        q[0, : self.dim] = query
        ints, scale = _on_grid(q)
        rounded = (ints * scale[..., None]).reshape(1, self.width).astype(np.float32)
        out = self._session.run(None, {"q": rounded})[0][0]
        question_error = float(np.linalg.norm(q - rounded))
        bound = float(np.linalg.norm(q)) * self.stored_error + question_error * self.stored_norm
        return out, bound + _FLOAT_SLACK * (1.0 + float(np.linalg.norm(q)))


def build_scan(vectors: np.ndarray, *, probes: int = 8) -> QuantizedScan | None:
    """The scan of ``vectors``, or None where ONNX Runtime can't run it or its error breaks the bound.

    The check scores rows of the index and random directions against every row, exactly and through the
    kernel: a runtime whose kernel works differently from the one the bounds describe is caught here.
    """
    try:
        scan = QuantizedScan(vectors)
    except Exception as exc:  # an onnxruntime without the 8-bit kernel: exact scoring it is
        log.warning("quantized vector scan unavailable, scoring in float32: %s", exc)
        return None
    rng = np.random.default_rng(0)
    picked = vectors[np.linspace(0, len(vectors) - 1, num=min(probes, len(vectors)), dtype=np.int64)]
    for query in [*picked, *rng.standard_normal((probes, vectors.shape[1])).astype(np.float32)]:
        approx, bound = scan.scores(query)
        if bool((np.abs(approx - vectors @ query) > bound).any()):
            log.warning("quantized vector scan off by more than its bound, scoring in float32")
            return None
    return scan


@dataclass
class BackgroundPack:
    """A re-pack of the one-byte copy running in a thread, and the rows written since its snapshot."""

    written: set[int] = field(default_factory=set)
    done: threading.Event = field(default_factory=threading.Event)
    scan: QuantizedScan | None = None
    crashed: bool = False  # an exception (e.g. out of memory), not a copy that failed its self-check

    @classmethod
    def start(cls, vectors: np.ndarray) -> BackgroundPack:
        """Pack ``vectors`` (a view of the index's matrix) in a thread. The caller must record in ``written``
        every row it writes from now on: the thread's snapshot may hold any mix of their old and new values."""
        packing = cls()

        def run() -> None:
            try:
                with contextlib.suppress(AttributeError, OSError):  # questions first: this thread yields the CPU
                    me = threading.get_native_id()
                    os.setpriority(os.PRIO_PROCESS, me, os.getpriority(os.PRIO_PROCESS, me) + PACKING_NICENESS)
                snapshot = vectors.copy()  # the packing and its self-check must see one and the same matrix
                packing.scan = build_scan(snapshot)
            except Exception as exc:  # never leave the index waiting on a dead thread
                log.warning("re-packing the one-byte vector copy failed; the old copy keeps serving: %s", exc)
                packing.crashed = True
            finally:
                packing.done.set()

        # not a daemon: an exit waits for the pack (about a second) rather than tear ONNX Runtime down under it
        threading.Thread(target=run, name="kb-repack").start()
        return packing
