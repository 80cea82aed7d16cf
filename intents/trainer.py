"""Training: embed the examples, fit the classifier, calibrate the out-of-scope threshold on CV.

Confidences are calibrated by temperature scaling on out-of-fold logits (a
confidence of 0.8 is right about 80% of the time), and the out-of-scope
threshold is chosen on the same out-of-fold predictions: the one that
maximises accuracy with ``out_of_scope`` examples counted as a class, so it
adapts to each data set.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from intents.api import OUT_OF_SCOPE
from intents.classifier import ClassifierConfig, IntentClassifier
from intents.data import TrainingData
from intents.embcache import EmbeddingCache
from intents.entities import EntityConfig
from intents.model import IntentModel

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (step, done, total)
DEFAULT_FOLDS = 5
# Without out-of-scope examples: reject at most this share of correct in-scope predictions.
FALLBACK_REJECT_RATE = 0.03
MAX_THRESHOLD = 0.6


def embed(texts: Sequence[str], encoder: Any, cache_path: Path | str | None = None,
          progress: Progress | None = None) -> np.ndarray:
    """Embeddings of ``texts``, reusing the on-disk cache when given."""
    total = len(texts)
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        if progress:
            progress("encode", done[0], total)

    return EmbeddingCache(cache_path).encode(encoder, list(texts), progress=tick)


def cross_val_proba(embeddings: np.ndarray, texts: Sequence[str], labels: Sequence[str],
                    config: ClassifierConfig | None = None, *, folds: int = DEFAULT_FOLDS,
                    seed: int = 13, progress: Progress | None = None) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold class logits (stratified k-fold) and the class order."""
    from sklearn.model_selection import StratifiedKFold

    labels_arr = np.asarray(labels)
    classes = sorted(set(labels))
    smallest = min(int((labels_arr == c).sum()) for c in classes)
    k = max(2, min(folds, smallest))
    logits = np.full((len(labels), len(classes)), -1e4, dtype=np.float32)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    texts_arr = np.asarray(list(texts), dtype=object)
    for i, (train_idx, test_idx) in enumerate(splitter.split(embeddings, labels_arr)):
        clf = IntentClassifier.train(embeddings[train_idx], list(texts_arr[train_idx]),
                                     list(labels_arr[train_idx]), config)
        fold_logits = clf.logits(embeddings[test_idx], list(texts_arr[test_idx]))
        cols = [classes.index(c) for c in clf.classes]
        logits[np.ix_(test_idx, cols)] = fold_logits
        if progress:
            progress("cross-validate", i + 1, k)
    return logits, classes


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
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


def calibrate_threshold(probs: np.ndarray, labels: Sequence[str], classes: list[str]) -> float:
    """The out-of-scope threshold on the top in-scope probability, from out-of-fold predictions."""
    labels_arr = np.asarray(labels)
    in_cols = np.array([i for i, c in enumerate(classes) if c != OUT_OF_SCOPE])
    classes_arr = np.asarray(classes)
    top = probs[:, in_cols].max(axis=1)
    guess = classes_arr[in_cols][probs[:, in_cols].argmax(axis=1)]
    said_oos = (probs.argmax(axis=1) == classes.index(OUT_OF_SCOPE)) if OUT_OF_SCOPE in classes \
        else np.zeros(len(labels_arr), dtype=bool)
    is_oos = labels_arr == OUT_OF_SCOPE
    correct = (guess == labels_arr) & ~said_oos & ~is_oos
    if not is_oos.any():
        if not correct.any():
            return 0.0
        return float(min(MAX_THRESHOLD, np.quantile(top[correct], FALLBACK_REJECT_RATE)))
    best_th, best_score = 0.0, -1.0
    for th in np.unique(np.round(np.concatenate([[0.0], top]), 4)):
        if th > MAX_THRESHOLD:
            break
        # Plain accuracy over all examples, out-of-scope counted as one more class.
        score = (correct & (top >= th)).sum() + (said_oos[is_oos] | (top[is_oos] < th)).sum()
        if score > best_score:
            best_th, best_score = float(th), score
    return best_th


def train_model(data: TrainingData, encoder: Any, *, config: ClassifierConfig | None = None,
                cache_path: Path | str | None = None, folds: int = DEFAULT_FOLDS,
                progress: Progress | None = None) -> IntentModel:
    """Train a complete model (classifier, calibrated threshold, entities) from validated data."""
    config = config or ClassifierConfig()
    started = time.perf_counter()
    texts, labels = data.texts(), data.labels()
    X = embed(texts, encoder, cache_path, progress)
    logits, classes = cross_val_proba(X, texts, labels, config, folds=folds, progress=progress)
    temperature = fit_temperature(logits, labels, classes)
    threshold = calibrate_threshold(softmax(logits, temperature), labels, classes)
    classifier = IntentClassifier.train(X, texts, labels, config)
    classifier.temperature = temperature
    if progress:
        progress("fit", 1, 1)
    model = IntentModel(
        classifier=classifier,
        entities=EntityConfig.from_training_data(data),
        oos_threshold=threshold,
        fingerprint=model_fingerprint(data, config),
        meta={"data_files": [str(p) for p in data.files], "examples": len(texts),
              "intent_counts": data.counts(), "temperature": round(temperature, 4),
              "training_seconds": round(time.perf_counter() - started, 2)},
    )
    log.info("trained NLU model on %d examples / %d intents (oos threshold %.3f)",
             len(texts), len(classes), threshold)
    return model


def model_fingerprint(data: TrainingData, config: ClassifierConfig) -> str:
    from intents.data import fingerprint_files

    return fingerprint_files(data.files, extra=repr(sorted(config.to_json().items())))
