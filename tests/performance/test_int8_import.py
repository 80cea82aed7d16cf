"""`helpdesk kb import --int8` indexes with the int8-quantised encoder: every chunk gets a vector close to, but
not the same as, the fp32 one, torch-free; questions are still answered from that index."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.performance.conftest import ROOT
from tests.performance.test_torch_free import run

pytestmark = pytest.mark.slow


def vectors(db: Path) -> dict[str, np.ndarray]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT text_hash, embedding FROM kb_chunk").fetchall()
    return {h: np.frombuffer(e, dtype=np.float32) for h, e in rows}


def test_int8_import_stores_close_vectors_and_answers(prepared: Path, tmp_path: Path):
    db = tmp_path / "int8.db"
    url = f"sqlite:///{db}"
    out, probe = run(prepared, "kb", "import", str(ROOT / "data" / "kb"), "--int8", "--json",
                     HELPDESK_DATABASE__URL=url)
    assert json.loads(out)["counts"]["created"] == 29
    assert probe["heavy"] == []
    fp32, int8 = vectors(prepared / "helpdesk.db"), vectors(db)
    shared = sorted(set(fp32) & set(int8))
    assert len(shared) == len(int8) > 29
    cos = np.array([float(fp32[k] @ int8[k]) for k in shared])
    assert cos.min() > 0.95 and cos.mean() > 0.98  # close to the fp32 vectors…
    assert not all(np.array_equal(fp32[k], int8[k]) for k in shared)  # …but from the other model
    out, _ = run(prepared, "ask", "my vpn keeps disconnecting", "--json", HELPDESK_DATABASE__URL=url)
    reply = json.loads(out)
    assert reply["outcome"] == "answered" and "VPN" in reply["text"]
