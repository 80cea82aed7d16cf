"""The out-of-scope decision: the one rule production parsing and every evaluation apply.

A message is out of scope when the classifier's most probable class is
``out_of_scope`` itself, or when the best *in-scope* class's probability is
below the model's threshold. Both halves fold into one number per message, its
*in-scope score*: the top in-scope probability, or ``-1`` when ``out_of_scope``
won outright; the message is out of scope when that score is below the
threshold (thresholds are probabilities, so they are never below 0).

The threshold itself is chosen by one rule too, :func:`calibrate_threshold`:
training picks it on out-of-fold predictions of the training data, and the
CLINC150 benchmark (``training.clinc``) on its validation split, so the figures
the benchmark prints are those of the rule the bot runs with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from intents.api import OUT_OF_SCOPE

FloatArray = npt.NDArray[np.floating]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

# The in-scope score of a message whose most probable class is out_of_scope.
OOS_CLASS_SCORE = -1.0
# Without out-of-scope examples: reject at most this share of correct in-scope predictions.
FALLBACK_REJECT_RATE = 0.03
MAX_THRESHOLD = 0.6


@dataclass(frozen=True)
class ScopeScores:
    """Per message: the best in-scope class, its probability, and the in-scope score."""

    best: IntArray          # column of the best in-scope class
    top: FloatArray         # its probability
    score: FloatArray       # ``top``, or OOS_CLASS_SCORE when out_of_scope is the most probable class
    oos_class: BoolArray    # out_of_scope is the most probable class
    p_oos: FloatArray       # P(out_of_scope) (0 when the model has no such class)


@dataclass(frozen=True)
class ScopeDecision:
    """The decision for each message and the confidence of what was decided."""

    best: IntArray
    top: FloatArray
    out_of_scope: BoolArray
    confidence: FloatArray  # top when in scope; P(out_of_scope) or 1 - top when out of scope


def scope_scores(probs: FloatArray, classes: Sequence[str]) -> ScopeScores:
    """Scores of each row of class probabilities ``probs`` (columns in ``classes`` order)."""
    probs = np.atleast_2d(probs)
    classes = list(classes)
    in_cols = np.array([i for i, c in enumerate(classes) if c != OUT_OF_SCOPE], dtype=np.intp)
    sub = probs[:, in_cols]
    best = in_cols[sub.argmax(axis=1)]
    top = sub.max(axis=1)
    if OUT_OF_SCOPE in classes:
        oos_col = classes.index(OUT_OF_SCOPE)
        oos_class = probs.argmax(axis=1) == oos_col
        p_oos = probs[:, oos_col]
    else:
        oos_class = np.zeros(len(probs), dtype=bool)
        p_oos = np.zeros(len(probs), dtype=probs.dtype)
    score = np.where(oos_class, OOS_CLASS_SCORE, top)
    return ScopeScores(best, top, score, oos_class, p_oos)


def out_of_scope(score: FloatArray, threshold: float) -> BoolArray:
    """The rule: out of scope when the in-scope score is below the threshold."""
    return np.asarray(score < threshold)


def calibrate_threshold(probs: FloatArray, labels: Sequence[str], classes: Sequence[str]) -> float:
    """The operating point: the threshold on the in-scope score that maximises plain accuracy.

    ``probs`` are calibration predictions (out-of-fold in training, the validation split in the
    benchmark) and ``labels`` their true labels, ``out_of_scope`` counted as one more class: a
    message is right when it gets its intent and is kept, or is out of scope and rejected. At
    most ``MAX_THRESHOLD``; without any out-of-scope example, the threshold that rejects
    ``FALLBACK_REJECT_RATE`` of the correct in-scope predictions.
    """
    classes = list(classes)
    labels_arr = np.asarray(labels)
    scores = scope_scores(probs, classes)
    guess = np.asarray(classes)[scores.best]
    is_oos = labels_arr == OUT_OF_SCOPE
    correct = (guess == labels_arr) & ~scores.oos_class & ~is_oos
    if not is_oos.any():
        if not correct.any():
            return 0.0
        return float(min(MAX_THRESHOLD, np.quantile(scores.top[correct], FALLBACK_REJECT_RATE)))
    best_th, best_right = 0.0, -1
    for th in np.unique(np.round(np.concatenate([[0.0], scores.top]), 4)):
        if th > MAX_THRESHOLD:
            break
        rejected = out_of_scope(scores.score, float(th))
        right = int((correct & ~rejected).sum() + rejected[is_oos].sum())
        if right > best_right:
            best_th, best_right = float(th), right
    return best_th


def decide(probs: FloatArray, classes: Sequence[str], threshold: float) -> ScopeDecision:
    """In or out of scope for each row, with the confidence of the decision."""
    s = scope_scores(probs, classes)
    oos = out_of_scope(s.score, threshold)
    confidence = np.where(s.oos_class, s.p_oos, np.where(oos, 1.0 - s.top, s.top))
    return ScopeDecision(s.best, s.top, oos, confidence)


def decided_labels(decision: ScopeDecision, classes: Sequence[str]) -> npt.NDArray[np.object_]:
    """The final label of each row: the best in-scope class, or ``out_of_scope``."""
    labels = np.asarray(list(classes), dtype=object)[decision.best]
    labels[decision.out_of_scope] = OUT_OF_SCOPE
    return labels


__all__ = ["FALLBACK_REJECT_RATE", "MAX_THRESHOLD", "OOS_CLASS_SCORE", "ScopeDecision", "ScopeScores",
           "calibrate_threshold", "decide", "decided_labels", "out_of_scope", "scope_scores"]
