"""CLINC150-shaped benchmark: in-scope accuracy and out-of-scope recall at one operating point.

The file is shaped like CLINC150's ``data_full.json`` (keys ``train``, ``val``,
``test``, ``oos_train``, ``oos_val``, ``oos_test``; rows ``[text, intent]``;
missing keys allowed). The classifier trains on ``train`` (+ ``oos_train`` as an
``out_of_scope`` class when asked), the operating point is picked on ``val`` +
``oos_val`` only, by the rule the bot itself is trained with
(``intents.scope.calibrate``, after the same temperature scaling; distances from
a distance model fitted on the in-scope ``train`` rows), and the figures are
reported on the chosen split by the rule the bot parses with
(``intents.scope.out_of_scope``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bot.encoding import TextEncoder
from bot.errors import DataError
from intents.api import OUT_OF_SCOPE
from intents.classifier import ClassifierConfig, IntentClassifier
from intents.distance import DistanceModel
from intents.scope import OperatingPoint, calibrate, out_of_scope, scope_scores
from intents.trainer import Progress, embed, fit_temperature, softmax

# Larson et al. 2019, Table 2, Full setting, test split: (in-scope accuracy, oos recall).
PUBLISHED = {
    "BERT (threshold)": (96.2, 52.3),
    "BERT (oos class)": (96.9, 40.3),
    "MLP on USE (threshold)": (93.4, 49.1),
    "Rasa 2019 (threshold)": (90.9, 31.2),
    "DialogFlow (threshold)": (90.8, 26.7),
}
OOS_LABELS = {"oos", OUT_OF_SCOPE}


def load_clinc(path: Path | str) -> dict[str, list[tuple[str, str]]]:
    """Read a CLINC150-shaped JSON file (DataError with the path when it is not one)."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("file does not exist", path=str(p)) from None
    except (OSError, ValueError) as exc:
        raise DataError(f"not a readable JSON file ({exc})", path=str(p)) from None
    if not isinstance(raw, dict) or "train" not in raw:
        raise DataError("expected a CLINC150-shaped object with a 'train' key", path=str(p))
    out: dict[str, list[tuple[str, str]]] = {}
    for key, rows in raw.items():
        if not isinstance(rows, list) or any(not isinstance(r, list) or len(r) != 2 for r in rows):
            raise DataError(f"'{key}' must be a list of [text, intent] pairs", path=str(p))
        out[key] = [(str(t), str(label)) for t, label in rows]
    return out


def split_rows(data: dict[str, list[tuple[str, str]]], split: str) -> tuple[list, list]:
    """(in-scope rows, out-of-scope rows) of a split (``val`` or ``test``)."""
    rows = data.get(split, [])
    in_scope = [r for r in rows if r[1] not in OOS_LABELS]
    oos = [r for r in rows if r[1] in OOS_LABELS] + data.get(f"oos_{split}", [])
    return in_scope, oos


Scored = tuple[np.ndarray, np.ndarray, np.ndarray]  # per row: in-scope score, distance, best in-scope label


def _scores(clf: IntentClassifier, dist: DistanceModel, X: np.ndarray, texts: list[str]) -> Scored:
    """Per row: the production rule's inputs (in-scope score, distance) and the best in-scope label."""
    scores = scope_scores(clf.predict_proba(X, texts), clf.classes)
    return scores.score, dist.min_distance(X), np.asarray(clf.classes, dtype=object)[scores.best]


def figures(scored_in: Scored, gold_in: list[str], scored_oos: Scored, point: OperatingPoint) -> tuple[float, float]:
    """(in-scope accuracy, out-of-scope recall) when the production rule runs at ``point``."""
    score_in, dist_in, labels_in = scored_in
    accepted = ~out_of_scope(score_in, point, dist_in)
    acc = float(((labels_in == np.asarray(gold_in, dtype=object)) & accepted).mean()) if len(gold_in) else 0.0
    rec = float(out_of_scope(scored_oos[0], point, scored_oos[1]).mean()) if len(scored_oos[0]) else 0.0
    return acc, rec


def pick_threshold(scored_in: Scored, gold_in: list[str], scored_oos: Scored, max_distance: float | None,
                   min_oos_recall: float) -> OperatingPoint:
    """An override for exploring: the best in-scope accuracy with oos recall >= the target (else acc + recall).

    Only the threshold moves; the maximum distance stays the calibrated one.
    """
    candidates = np.unique(np.concatenate([[0.0], scored_in[0], scored_oos[0], [1.0]]))
    best: tuple[float, float] | None = None
    fallback: tuple[float, float] = (-1.0, 0.0)
    for th in candidates:
        acc, rec = figures(scored_in, gold_in, scored_oos, OperatingPoint(float(th), max_distance))
        if rec >= min_oos_recall and (best is None or acc > best[0]):
            best = (acc, float(th))
        if acc + rec > fallback[0]:
            fallback = (acc + rec, float(th))
    return OperatingPoint(best[1] if best else fallback[1], max_distance)


def calibrate_on(clf: IntentClassifier, dist: DistanceModel, X_val: np.ndarray, texts: list[str],
                 labels: list[str]) -> OperatingPoint:
    """Production's calibration on the validation rows: temperature (set on ``clf``), then the operating point."""
    logits = clf.logits(X_val, texts)
    known = [i for i, label in enumerate(labels) if label in clf.classes]
    clf.temperature = fit_temperature(logits[known], [labels[i] for i in known], clf.classes)
    return calibrate(softmax(logits, clf.temperature), labels, clf.classes, dist.min_distance(X_val))


HALF_SPLITS = 3  # random halvings of val for the held-out estimate


def halves_estimate(clf: IntentClassifier, dist: DistanceModel, vectors: Callable[[list], np.ndarray],
                    val_in: list, val_oos: list, *, splits: int = HALF_SPLITS) -> tuple[float, float]:
    """(in-scope accuracy, oos recall) with the operating point picked on one half of val, measured on the other.

    Val is halved at random within each intent (``splits`` times, each half in turn the calibration one):
    the val figures without the optimism of scoring the rows the point was picked on.
    """
    temperature = clf.temperature  # calibrate_on refits it: put back the one fitted on the whole of val
    results = []

    def scored(rows: list) -> Scored:
        return _scores(clf, dist, vectors(rows), [t for t, _ in rows])

    try:
        for seed in range(splits):
            rng = np.random.default_rng(seed)
            by_intent: dict[str, list] = {}
            for row in val_in:
                by_intent.setdefault(row[1], []).append(row)
            halves: tuple[list, list] = ([], [])
            for rows in by_intent.values():
                order = rng.permutation(len(rows))
                halves[0].extend(rows[i] for i in order[: len(rows) // 2])
                halves[1].extend(rows[i] for i in order[len(rows) // 2:])
            oos = [val_oos[i] for i in rng.permutation(len(val_oos))]
            oos_halves = (oos[: len(oos) // 2], oos[len(oos) // 2:])
            for cal, other in ((0, 1), (1, 0)):
                rows = halves[cal] + oos_halves[cal]
                point = calibrate_on(clf, dist, vectors(rows), [t for t, _ in rows],
                                     [g for _, g in halves[cal]] + [OUT_OF_SCOPE] * len(oos_halves[cal]))
                results.append(figures(scored(halves[other]), [g for _, g in halves[other]],
                                       scored(oos_halves[other]), point))
    finally:
        clf.temperature = temperature
    return float(np.mean([a for a, _ in results])), float(np.mean([r for _, r in results]))


def run_benchmark(path: Path | str, encoder: TextEncoder, *, split: str = "val", use_oos_train: bool = False,
                  min_oos_recall: float | None = None, config: ClassifierConfig | None = None,
                  cache_path: Path | str | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Train on ``train``, pick the operating point on ``val``, report the figures of ``split``.

    ``min_oos_recall``: an override for exploring (None: the bot's own rule, the one reported).
    """
    data = load_clinc(path)
    if split not in data and f"oos_{split}" not in data:
        raise DataError(f"the file has no '{split}' split", path=str(path))
    train = [r for r in data["train"] if r[1] not in OOS_LABELS]
    if use_oos_train:
        train += [(t, OUT_OF_SCOPE) for t, _ in data.get("oos_train", [])]
    val_in, val_oos = split_rows(data, "val")
    eval_in, eval_oos = split_rows(data, split)
    if not val_in or not val_oos:
        raise DataError("picking the operating point needs 'val' and 'oos_val' rows", path=str(path))
    texts = sorted({t for t, _ in train + val_in + val_oos + eval_in + eval_oos + data.get("oos_train", [])})
    vectors = embed(texts, encoder, cache_path, progress)
    index = {t: i for i, t in enumerate(texts)}

    def X(rows: list) -> np.ndarray:
        return vectors[[index[t] for t, _ in rows]]

    started = time.perf_counter()
    clf = IntentClassifier.train(X(train), [t for t, _ in train], [label for _, label in train], config)
    dist = DistanceModel.fit(X(train), [label for _, label in train])  # in-scope rows only
    train_seconds = time.perf_counter() - started
    if progress:
        progress("fit", 1, 1)
    val_texts = [t for t, _ in val_in + val_oos]
    point = calibrate_on(clf, dist, X(val_in + val_oos), val_texts,
                         [g for _, g in val_in] + [OUT_OF_SCOPE] * len(val_oos))
    rule = "picked on val/oos_val by the bot's own rule (intents.scope.calibrate: plain accuracy, " \
           "out-of-scope counted as one more class)"

    def scored(rows: list) -> Scored:
        return _scores(clf, dist, X(rows), [t for t, _ in rows])

    val_scored, val_oos_scored = scored(val_in), scored(val_oos)
    if min_oos_recall is not None:
        point = pick_threshold(val_scored, [g for _, g in val_in], val_oos_scored, point.max_distance,
                               min_oos_recall)
        rule = f"override: best val in-scope accuracy with oos recall >= {100 * min_oos_recall:.0f}%"
    val_acc, val_rec = figures(val_scored, [g for _, g in val_in], val_oos_scored, point)
    if split == "val":  # the reported split is val (the default): its rows were scored just above
        eval_scored, eval_oos_scored = val_scored, val_oos_scored
    else:
        eval_scored, eval_oos_scored = scored(eval_in), scored(eval_oos)
    acc, rec = figures(eval_scored, [g for _, g in eval_in], eval_oos_scored, point)
    unseen: dict[str, float] = {}
    if min_oos_recall is None:
        half_acc, half_rec = halves_estimate(clf, dist, X, val_in, val_oos)
        unseen["val_halves_in_scope_accuracy"] = round(100 * half_acc, 2)
        unseen["val_halves_oos_recall"] = round(100 * half_rec, 2)
    if not use_oos_train and data.get("oos_train"):
        # oos_train took no part in training or in the choice: how the recall holds on unseen out-of-scope text
        score_u, dist_u, _ = scored(data["oos_train"])
        unseen["oos_train_recall"] = round(100 * float(out_of_scope(score_u, point, dist_u).mean()), 2)
    lab_e = eval_scored[2]
    raw_acc = float((lab_e == np.asarray([g for _, g in eval_in], dtype=object)).mean()) if eval_in else 0.0
    return {
        "file": str(path),
        "split": split,
        "train_examples": len(train),
        "intents": len({label for _, label in train}),
        "in_scope_examples": len(eval_in),
        "oos_examples": len(eval_oos),
        "threshold": round(point.threshold, 4),
        "max_distance": round(point.max_distance, 2) if point.max_distance is not None else None,
        "in_scope_accuracy": round(100 * acc, 2),
        "oos_recall": round(100 * rec, 2),
        "in_scope_accuracy_no_threshold": round(100 * raw_acc, 2),
        "operating_point": rule,
        "val_in_scope_accuracy": round(100 * val_acc, 2),
        "val_oos_recall": round(100 * val_rec, 2),
        "temperature": round(clf.temperature, 4),
        **unseen,
        "classifier": (config or ClassifierConfig()).to_json() | {"oos_train_class": use_oos_train},
        "train_seconds": round(train_seconds, 1),
        "published_test": {k: {"in_scope_accuracy": a, "oos_recall": r} for k, (a, r) in PUBLISHED.items()},
    }
