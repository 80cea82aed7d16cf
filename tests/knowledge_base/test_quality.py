"""The bundled articles answer typical employee questions out of the box, and decline the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.evaluate import run_eval
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_bundled_articles_answer_the_calibration_questions(encoder):
    report = run_eval(ROOT / "data" / "kb", Path(__file__).with_name("questions.jsonl"), lambda: encoder)
    m = report.metrics()
    assert report.import_errors == [] and report.articles >= 25
    assert m["hit@1"] >= 0.85 and m["hit@5"] >= 0.95, report.to_dict()["misses"]
    assert m["answered_share"] >= 0.8 and m["declined_share"] >= 0.7, report.to_dict()["misses"]
