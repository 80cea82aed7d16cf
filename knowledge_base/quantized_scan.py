"""A one-byte copy of a large index's vectors, scored by ONNX Runtime, with a bound on its error.

Scoring every row of a 100,000-chunk index in float32 reads 150 MB per question and is bound by memory
bandwidth (about 7 ms here, with a long tail when neighbours share the bus). The same product over an
8-bit copy (``com.microsoft.MatMulNBits``, blocks of 128) reads a quarter of that and takes about 1 ms.

Its scores are approximate, but each is off by at most :attr:`QuantizedScan.margin` for the question, a
bound that follows from the rounding (see :meth:`QuantizedScan.scores`): the index re-scores exactly
every row the bound cannot rule out, so a ranking is the same as with float32 scores everywhere.
A kernel that breaks the bound on its own rows at start-up is not used (see :func:`build_scan`).
"""

from __future__ import annotations

import logging
import math

import numpy as np

log = logging.getLogger(__name__)

BLOCK = 128          # values sharing one scale, in the stored copy and in the question
MIN_ROWS = 20_000    # below this the float32 matrix fits the CPU caches and the exact product is as fast
STALE_LIMIT = 2_048  # rows changed since packing, scored exactly on each question, before the copy is re-packed
_LEVELS = 127        # int8: values -127..127 around a zero point of 128


class QuantizedScan:
    """Approximate cosine of a question with each of ``rows`` packed vectors."""

    def __init__(self, vectors: np.ndarray) -> None:
        import onnxruntime as ort
        from onnx import TensorProto, helper, numpy_helper

        rows, dim = vectors.shape
        self.rows = rows
        self.dim = dim
        self.width = math.ceil(dim / BLOCK) * BLOCK
        padded = np.zeros((rows, self.width), dtype=np.float32)
        padded[:, :dim] = vectors
        blocks = padded.reshape(rows, self.width // BLOCK, BLOCK)
        scale = np.abs(blocks).max(axis=2) / _LEVELS
        scale[scale == 0] = 1.0
        packed = np.clip(np.rint(blocks / scale[..., None]), -_LEVELS, _LEVELS)
        restored = (packed * scale[..., None]).reshape(rows, self.width)
        # how far each stored copy is from its vector: bounds the stored half of the error
        self.stored_error = float(np.linalg.norm(restored - padded, axis=1).max(initial=0.0))
        self.stored_norm = float(np.linalg.norm(restored, axis=1).max(initial=0.0))
        node = helper.make_node("MatMulNBits", ["q", "B", "scales"], ["scores"], domain="com.microsoft",
                                K=self.width, N=rows, bits=8, block_size=BLOCK, accuracy_level=4)
        graph = helper.make_graph(
            [node], "quantized_scan",
            [helper.make_tensor_value_info("q", TensorProto.FLOAT, [1, self.width])],
            [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, rows])],
            initializer=[numpy_helper.from_array((packed + 128).astype(np.uint8), "B"),
                         numpy_helper.from_array(scale.astype(np.float32).reshape(-1), "scales")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                        helper.make_opsetid("com.microsoft", 1)])
        options = ort.SessionOptions()
        # idle threads sleep instead of spinning: a spinning pool steals the CPU from the rest of the turn
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(model.SerializeToString(), options,
                                             providers=["CPUExecutionProvider"])

    def scores(self, query: np.ndarray) -> tuple[np.ndarray, float]:
        """Approximate scores for rows ``0..rows-1``, and the most any of them can be off by.

        The kernel rounds the stored vector x to x' and the question q to q' (int8 per block, so each value
        moves by at most max|q|/254), and  |q.x - q'.x'| <= |q| |x - x'| + |q - q'| |x'|.
        """
        q = np.zeros((1, self.width), dtype=np.float32)
        q[0, : self.dim] = query
        out = self._session.run(None, {"q": q})[0][0]
        question_error = math.sqrt(self.width) * float(np.abs(query).max(initial=0.0)) / (2 * _LEVELS)
        margin = float(np.linalg.norm(query)) * self.stored_error + question_error * self.stored_norm
        return out, margin * 1.01 + 1e-5  # and float32 summation


def build_scan(vectors: np.ndarray, *, probes: int = 4) -> QuantizedScan | None:
    """The scan of ``vectors``, or None where ONNX Runtime can't run it or its error breaks the bound.

    The check scores a few of the rows themselves as questions against every row, exactly and through the
    kernel: a runtime whose kernel works differently from the one the bound describes is caught here.
    """
    try:
        scan = QuantizedScan(vectors)
    except Exception as exc:  # an onnxruntime without the 8-bit kernel: exact scoring it is
        log.warning("quantized vector scan unavailable, scoring in float32: %s", exc)
        return None
    for row in np.linspace(0, len(vectors) - 1, num=min(probes, len(vectors)), dtype=np.int64):
        query = vectors[row]
        approx, margin = scan.scores(query)
        if float(np.abs(approx - vectors @ query).max(initial=0.0)) > margin:
            log.warning("quantized vector scan off by more than its bound, scoring in float32")
            return None
    return scan
