"""The out-of-scope rule and its operating point: one rule for the bot and for the CLINC150 benchmark."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from intents.api import OUT_OF_SCOPE
from intents.scope import (
    FALLBACK_DISTANCE_REJECT_RATE,
    MAX_DISTANCE_REJECT_RATE,
    OperatingPoint,
    calibrate,
    decide,
)

CLASSES = ["hardware", "vpn", OUT_OF_SCOPE]


def _probs(rows: list[tuple[float, float, float]]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64)


def test_a_message_below_the_threshold_or_won_by_out_of_scope_is_out_of_scope():
    probs = _probs([(0.70, 0.20, 0.10),   # confident: in scope
                    (0.45, 0.30, 0.25),   # unsure: below 0.5
                    (0.50, 0.10, 0.40),   # exactly at the threshold: kept
                    (0.30, 0.10, 0.60)])  # out_of_scope is the most probable class
    decision = decide(probs, CLASSES, OperatingPoint(0.5))
    assert decision.out_of_scope.tolist() == [False, True, False, True]
    assert [CLASSES[i] for i in decision.best] == ["hardware", "hardware", "hardware", "hardware"]


def test_a_message_far_from_every_intent_is_out_of_scope_however_confident_the_classifier():
    probs = _probs([(0.97, 0.02, 0.01), (0.97, 0.02, 0.01), (0.45, 0.30, 0.25)])
    distance = np.array([12.0, 80.0, 12.0])  # the second lies beyond the maximum distance
    decision = decide(probs, CLASSES, OperatingPoint(0.5, max_distance=50.0), distance)
    assert decision.out_of_scope.tolist() == [False, True, True]
    # without a maximum distance (a model saved before it existed) only the probability counts
    assert decide(probs, CLASSES, OperatingPoint(0.5), distance).out_of_scope.tolist() == [False, False, True]
    with pytest.raises(ValueError, match="distances are needed"):
        decide(probs, CLASSES, OperatingPoint(0.5, max_distance=50.0))


def test_the_operating_point_maximises_accuracy_with_out_of_scope_counted_as_a_class():
    probs = _probs([(0.90, 0.05, 0.05), (0.10, 0.80, 0.10), (0.70, 0.20, 0.10),  # right intents
                    (0.45, 0.35, 0.20),                                          # wrong intent (it was vpn)
                    (0.40, 0.35, 0.25), (0.35, 0.33, 0.32)])                     # out of scope, unsure
    labels = ["hardware", "vpn", "hardware", "vpn", OUT_OF_SCOPE, OUT_OF_SCOPE]
    # rejecting below 0.45 turns both out-of-scope messages into right answers and loses no right intent;
    # going up to 0.70 would reject a right answer
    assert calibrate(probs, labels, CLASSES) == OperatingPoint(pytest.approx(0.45), None)


def test_the_maximum_distance_rejects_few_in_scope_messages_and_catches_confident_far_ones():
    rng = np.random.default_rng(3)
    n_in = 200
    in_dist = rng.uniform(10, 100, n_in)                    # in scope: distances 10..100
    oos_dist = np.array([150.0, 160.0, 95.0, 97.0, 99.0])   # three far ones, two among the farthest in scope
    probs = _probs([(0.9, 0.05, 0.05)] * (n_in + 5))        # the classifier is confident about all of them
    labels = ["hardware"] * n_in + [OUT_OF_SCOPE] * 5
    distance = np.concatenate([in_dist, oos_dist])
    point = calibrate(probs, labels, CLASSES, distance)
    assert point.threshold == 0.0 and point.max_distance is not None
    rejected = decide(probs, CLASSES, point, distance).out_of_scope
    assert rejected[n_in:n_in + 2].all()                    # the far ones are caught...
    assert rejected[:n_in].mean() <= MAX_DISTANCE_REJECT_RATE  # ...at the cost of few in-scope messages
    # a tie (catching 95..99 costs as many in-scope messages as it gains): the smaller rejection
    assert rejected[:n_in].sum() == 0


def test_the_maximum_distance_never_rejects_more_than_the_named_share_of_in_scope_messages():
    n_in = 100
    in_dist = np.arange(n_in, dtype=float)
    oos_dist = np.full(60, 50.0)                            # rejecting half of in scope would pay off
    probs = _probs([(0.9, 0.05, 0.05)] * (n_in + 60))
    labels = ["hardware"] * n_in + [OUT_OF_SCOPE] * 60
    point = calibrate(probs, labels, CLASSES, np.concatenate([in_dist, oos_dist]))
    assert (in_dist > point.max_distance).mean() <= MAX_DISTANCE_REJECT_RATE
    assert point.max_distance >= in_dist[-int(MAX_DISTANCE_REJECT_RATE * n_in) - 1]


def test_without_out_of_scope_examples_few_right_answers_are_rejected():
    probs = _probs([(0.9 - i / 100, 0.05, 0.05 + i / 100) for i in range(40)])
    distance = np.linspace(1.0, 50.0, 40)
    point = calibrate(probs, ["hardware"] * 40, CLASSES, distance)
    assert 0 < point.threshold <= 0.6
    assert point.max_distance is not None
    assert (distance > point.max_distance).mean() <= FALLBACK_DISTANCE_REJECT_RATE + 1 / 40
    assert decide(probs, CLASSES, point, distance).out_of_scope.mean() <= 0.05 + FALLBACK_DISTANCE_REJECT_RATE


class _HashEncoder:
    """Deterministic word-bag vectors: similar words, similar vectors (no model)."""

    def encode(self, texts, **_):
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.split():
                out[i, sum(map(ord, word)) % 384] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_the_benchmark_reports_the_operating_point_of_the_bots_own_rule(tmp_path, monkeypatch):
    import intents.model
    import intents.scope
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
    events: list[tuple] = []  # in order: what was calibrated on, decided at and scored
    real_rule = training.clinc.out_of_scope  # the rule the benchmark applies, before the spy replaces it
    real_calibrate_on, real_scores = training.clinc.calibrate_on, training.clinc._scores
    real_halves = training.clinc.halves_estimate

    def calibrate_spy(probs, labels, classes, distance):
        point = calibrate(probs, labels, classes, distance)
        events.append(("point", list(labels), point))
        return point

    def calibrate_on_spy(clf, dist, X_val, texts, labels):
        events.append(("calibrate_on", set(texts)))
        return real_calibrate_on(clf, dist, X_val, texts, labels)

    def scores_spy(clf, dist, X, texts):
        events.append(("scored", set(texts)))
        return real_scores(clf, dist, X, texts)

    def rule_spy(score, point, distance=None):
        events.append(("decided", point))
        return real_rule(score, point, distance)

    temperatures = []

    def halves_spy(clf, *args, **kwargs):
        temperatures.append(clf.temperature)
        estimate = real_halves(clf, *args, **kwargs)
        temperatures.append(clf.temperature)
        return estimate

    for name, spy in (("calibrate", calibrate_spy), ("calibrate_on", calibrate_on_spy), ("_scores", scores_spy),
                      ("out_of_scope", rule_spy), ("halves_estimate", halves_spy)):
        monkeypatch.setattr(training.clinc, name, spy)
    result = training.clinc.run_benchmark(path, _HashEncoder(), use_oos_train=True)
    # the bot's trainer calibrates with the very same rule, and parsing decides with the one the benchmark uses
    assert intents.trainer.calibrate is calibrate
    assert real_rule is intents.scope.out_of_scope and intents.model.decide is intents.scope.decide
    # the benchmark picked its point with it, on val + oos_val only, distances included...
    points = [e for e in events if e[0] == "point"]
    _, labels, main = points[0]
    assert labels == [label for _, label in rows["val"]] + [OUT_OF_SCOPE] * 2
    assert result["threshold"] == round(main.threshold, 4)
    assert main.max_distance is not None and result["max_distance"] == round(main.max_distance, 2)
    assert "intents.scope.calibrate" in result["operating_point"]
    # ...and scored every split through the rule at that point, before the held-out estimate began
    first_half = events.index(next(e for e in events if e[0] == "point" and e[2] is not main))
    decided = [e[1] for e in events[:first_half] if e[0] == "decided"]
    assert decided and all(p == main for p in decided)
    # the held-out estimate: each half of val (stratified by intent) picks its own point by the same rule, and
    # only the other half is scored at it
    assert len(points) == 1 + 2 * training.clinc.HALF_SPLITS
    val_texts = {t for t, _ in rows["val"]} | {t for t, _ in rows["oos_val"]}
    starts = [i for i, e in enumerate(events) if e[0] == "calibrate_on"][1:]
    assert len(starts) == 2 * training.clinc.HALF_SPLITS
    for start, end in zip(starts, starts[1:] + [len(events)], strict=True):
        calibrated = events[start][1]
        scored = set().union(*(e[1] for e in events[start:end] if e[0] == "scored"))
        assert not calibrated & scored and calibrated | scored == val_texts
        assert Counter(next(e[1] for e in events[start:end] if e[0] == "point")) == {
            "hardware": 2, "vpn": 2, OUT_OF_SCOPE: 1}
    # the temperature fitted on the whole of val is the one reported, whatever the halves fitted
    assert temperatures[0] == temperatures[1] and result["temperature"] == round(temperatures[0], 4)
    for key in ("val_halves_in_scope_accuracy", "val_halves_oos_recall"):
        assert 0.0 <= result[key] <= 100.0
