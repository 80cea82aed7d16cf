"""Training: embed the examples, fit the classifier and the distance model, calibrate on CV.

Confidences are calibrated by temperature scaling on out-of-fold logits (a
confidence of 0.8 is right about 80% of the time), and the out-of-scope
operating point (threshold and maximum distance, ``intents.scope``) is chosen on
the same out-of-fold predictions, the distances from each fold's own distance
model: the point that maximises accuracy with ``out_of_scope`` examples counted
as a class, so it adapts to each data set.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.encoding import TextEncoder
from bot.vector_cache import VectorFileCache
from intents.classifier import ClassifierConfig, IntentClassifier
from intents.data import TrainingData
from intents.distance import DistanceModel
from intents.entities import EntityConfig
from intents.model import IntentModel
from intents.scope import calibrate  # the operating-point rule the benchmark shares

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (step, done, total)
DEFAULT_FOLDS = 5


def embed(texts: Sequence[str], encoder: TextEncoder, cache_path: Path | str | None = None,
          progress: Progress | None = None) -> np.ndarray:
    """Embeddings of ``texts``, reusing the on-disk cache when given."""
    total = len(texts)
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        if progress:
            progress("encode", done[0], total)

    return VectorFileCache(cache_path).encode(lambda: encoder, list(texts), progress=tick, batch_size=256)


@dataclass(frozen=True)
class OutOfFold:
    """Out-of-fold predictions: class logits (columns in ``classes`` order) and distances."""

    logits: np.ndarray
    distances: np.ndarray  # to the nearest in-scope intent, by the fold's own distance model
    classes: list[str]


def cross_val_predict(embeddings: np.ndarray, texts: Sequence[str], labels: Sequence[str],
                      config: ClassifierConfig | None = None, *, folds: int = DEFAULT_FOLDS,
                      seed: int = 13, progress: Progress | None = None) -> OutOfFold:
    """Out-of-fold logits and distances (stratified k-fold): each fold's models never saw its messages."""
    from sklearn.model_selection import StratifiedKFold

    labels_arr = np.asarray(labels)
    classes = sorted(set(labels))
    smallest = min(int((labels_arr == c).sum()) for c in classes)
    k = max(2, min(folds, smallest))
    logits = np.full((len(labels), len(classes)), -1e4, dtype=np.float32)
    distances = np.zeros(len(labels), dtype=np.float32)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    texts_arr = np.asarray(list(texts), dtype=object)
    for i, (train_idx, test_idx) in enumerate(splitter.split(embeddings, labels_arr)):
        clf = IntentClassifier.train(embeddings[train_idx], list(texts_arr[train_idx]),
                                     list(labels_arr[train_idx]), config)
        fold_logits = clf.logits(embeddings[test_idx], list(texts_arr[test_idx]))
        cols = [classes.index(c) for c in clf.classes]
        logits[np.ix_(test_idx, cols)] = fold_logits
        fold_distance = DistanceModel.fit(embeddings[train_idx], list(labels_arr[train_idx]))
        distances[test_idx] = fold_distance.min_distance(embeddings[test_idx])
        if progress:
            progress("cross-validate", i + 1, k)
    return OutOfFold(logits, distances, classes)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``."""
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, labels: Sequence[str], classes: list[str]) -> float:
    """Temperature scaling: the T minimising the out-of-fold negative log-likelihood."""
    from scipy.optimize import minimize_scalar

    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[label] for label in labels])

    def nll(log_t: float) -> float:
        p = softmax(logits, float(np.exp(log_t)))
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def train_model(data: TrainingData, encoder: TextEncoder, *, config: ClassifierConfig | None = None,
                cache_path: Path | str | None = None, folds: int = DEFAULT_FOLDS,
                progress: Progress | None = None) -> IntentModel:
    """Train a complete model (classifier, distance model, operating point, entities) from validated data."""
    config = config or ClassifierConfig()
    started = time.perf_counter()
    texts, labels = data.texts(), data.labels()
    X = embed(texts, encoder, cache_path, progress)
    oof = cross_val_predict(X, texts, labels, config, folds=folds, progress=progress)
    temperature = fit_temperature(oof.logits, labels, oof.classes)
    point = calibrate(softmax(oof.logits, temperature), labels, oof.classes, oof.distances)
    classifier = IntentClassifier.train(X, texts, labels, config)
    classifier.temperature = temperature
    if progress:
        progress("fit", 1, 1)
    model = IntentModel(
        classifier=classifier,
        entities=EntityConfig.from_training_data(data),
        oos_threshold=point.threshold,
        fingerprint=model_fingerprint(data, config),
        distance=DistanceModel.fit(X, labels),
        max_distance=point.max_distance,
        meta={"data_files": [str(p) for p in data.files], "examples": len(texts),
              "intent_counts": data.counts(), "temperature": round(temperature, 4),
              "training_seconds": round(time.perf_counter() - started, 2)},
    )
    log.info("trained NLU model on %d examples / %d intents (oos threshold %.3f, max distance %s)",
             len(texts), len(oof.classes), point.threshold, point.max_distance)
    return model


def fingerprint_extra(config: ClassifierConfig) -> str:
    """What a model's fingerprint covers besides its data files: the classifier settings and the
    out-of-scope rule's version (``intents.scope.RULE_VERSION``)."""
    from intents.scope import RULE_VERSION

    return repr(sorted(config.to_json().items())) + f"; scope rule {RULE_VERSION}"


def model_fingerprint(data: TrainingData, config: ClassifierConfig) -> str:
    """What a model trained from ``data`` with ``config`` is fingerprinted as (stale-model detection)."""
    from intents.data import fingerprint_files

    return fingerprint_files(data.files, extra=fingerprint_extra(config))
