"""The out-of-scope rule and its operating point: one rule for the bot and for the CLINC150 benchmark."""

from __future__ import annotations

import json

import numpy as np
import pytest

from intents.api import OUT_OF_SCOPE
from intents.scope import calibrate_threshold, decide

CLASSES = ["hardware", "vpn", OUT_OF_SCOPE]


def _probs(rows: list[tuple[float, float, float]]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64)


def test_a_message_below_the_threshold_or_won_by_out_of_scope_is_out_of_scope():
    probs = _probs([(0.70, 0.20, 0.10),   # confident: in scope
                    (0.45, 0.30, 0.25),   # unsure: below 0.5
                    (0.50, 0.10, 0.40),   # exactly at the threshold: kept
                    (0.30, 0.10, 0.60)])  # out_of_scope is the most probable class
    decision = decide(probs, CLASSES, 0.5)
    assert decision.out_of_scope.tolist() == [False, True, False, True]
    assert [CLASSES[i] for i in decision.best] == ["hardware", "hardware", "hardware", "hardware"]


def test_the_operating_point_maximises_accuracy_with_out_of_scope_counted_as_a_class():
    probs = _probs([(0.90, 0.05, 0.05), (0.10, 0.80, 0.10), (0.70, 0.20, 0.10),  # right intents
                    (0.45, 0.35, 0.20),                                          # wrong intent (it was vpn)
                    (0.40, 0.35, 0.25), (0.35, 0.33, 0.32)])                     # out of scope, unsure
    labels = ["hardware", "vpn", "hardware", "vpn", OUT_OF_SCOPE, OUT_OF_SCOPE]
    # rejecting below 0.45 turns both out-of-scope messages into right answers and loses no right intent;
    # going up to 0.70 would reject a right answer
    assert calibrate_threshold(probs, labels, CLASSES) == pytest.approx(0.45)


def test_without_out_of_scope_examples_few_right_answers_are_rejected():
    probs = _probs([(0.9 - i / 100, 0.05, 0.05 + i / 100) for i in range(40)])
    threshold = calibrate_threshold(probs, ["hardware"] * 40, CLASSES)
    assert 0 < threshold <= 0.6
    assert decide(probs, CLASSES, threshold).out_of_scope.mean() <= 0.05


class _HashEncoder:
    """Deterministic word-bag vectors: similar words, similar vectors (no model)."""

    def encode(self, texts, **_):
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.split():
                out[i, sum(map(ord, word)) % 384] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_the_benchmark_reports_the_operating_point_of_the_bots_own_rule(tmp_path, monkeypatch):
    import intents.trainer
    import training.clinc

    topics = {"hardware": "laptop screen keyboard broken", "vpn": "vpn tunnel connect remote"}
    rows: dict[str, list[list[str]]] = {"train": [], "val": [], "oos_train": [], "oos_val": []}
    for intent, words in topics.items():
        w = words.split()
        for i in range(12):
            rows["train" if i < 8 else "val"].append([f"{w[i % 4]} {w[(i + 1) % 4]} help {i}", intent])
    for i in range(4):
        rows["oos_train" if i < 2 else "oos_val"].append([f"weather pizza movie {i}", "oos"])
    path = tmp_path / "clinc.json"
    path.write_text(json.dumps(rows))
    calls = []

    def spy(probs, labels, classes):
        calls.append(list(labels))
        calls.append(calibrate_threshold(probs, labels, classes))
        return calls[-1]

    monkeypatch.setattr(training.clinc, "calibrate_threshold", spy)
    result = training.clinc.run_benchmark(path, _HashEncoder(), use_oos_train=True)
    # the bot's trainer calibrates with the very same rule...
    assert intents.trainer.calibrate_threshold is calibrate_threshold
    # ...and the benchmark picked its point with it, on val + oos_val only
    assert calls[0] == [label for _, label in rows["val"]] + [OUT_OF_SCOPE] * 2
    assert result["threshold"] == round(calls[1], 4)
    assert "calibrate_threshold" in result["operating_point"]
