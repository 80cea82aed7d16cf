"""A prepared installation (database migrated, bundled articles imported, intent model trained, encoder
exported to ONNX) built once per session in a temporary folder, driven through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_PREPARE = """
import sys
from bot.cli import app
for args in (["db", "upgrade"], ["kb", "import", sys.argv[2]], ["train", "--json"]):
    app(args, standalone_mode=False)
print("torch" in sys.modules)
"""


def helpdesk_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a helpdesk process living in ``home`` (no developer settings leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_") and k != "ENCODER_BACKEND"}
    env.update({
        "HELPDESK_DATABASE__URL": f"sqlite:///{home / 'helpdesk.db'}",
        "HELPDESK_PATHS__DATA_DIR": str(ROOT / "data"),
        "HELPDESK_PATHS__MODELS_DIR": str(home / "models"),
        "HELPDESK_PATHS__VAR_DIR": str(home / "var"),
        "HELPDESK_CONFIG": str(home / "helpdesk.toml"),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
        **extra,
    })
    return env


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a prepared installation, as `make prepare` leaves it."""
    home = tmp_path_factory.mktemp("prepared")
    (home / "helpdesk.toml").write_text("")
    from intents.encoder import export_encoder

    export_encoder(home / "models")  # in this process: shares the session's one export build (copied)
    proc = subprocess.run([sys.executable, "-c", _PREPARE, str(home / "models"), str(ROOT / "data" / "kb")],
                          env=helpdesk_env(home), cwd=home, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return home
