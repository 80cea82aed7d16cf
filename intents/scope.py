"""The out-of-scope decision: the one rule production parsing and every evaluation apply.

Two signals per message, one rule. The *in-scope score* is the best in-scope
class's probability, or ``-1`` when the classifier's most probable class is
``out_of_scope`` itself. The *distance* is how far the message's embedding lies
from the nearest in-scope intent (``intents.distance``: squared Mahalanobis
distance to the intent means). A message is out of scope when its in-scope score
is below the threshold **or** its distance is above the maximum distance: the
probability catches what looks like no intent in particular, the distance what
lies farther from every intent than in-scope text does, however confident the
classifier is about it (a linear classifier can be confident far from its data).

The operating point is chosen by one rule too, :func:`calibrate`: training picks
it on out-of-fold predictions of the training data (distances from fold models
too), and the CLINC150 benchmark (``training.clinc``) on its validation split, so
the figures the benchmark prints are those of the rule the bot runs with. A
model saved before the distance existed has no maximum distance and decides on
the in-scope score alone, exactly as it did.
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
# The maximum distance rejects at most this share of the in-scope calibration messages
# (candidates: the farthest in-scope distances, from the farthest one down to this quantile).
MAX_DISTANCE_REJECT_RATE = 0.05
# Part of every model's fingerprint: a model trained under an older rule is stale (retrained by
# `helpdesk train`, `make prepare` and auto-train). 2: the distance to the nearest intent joined the score.
RULE_VERSION = 2
# Without out-of-scope examples: the maximum distance rejects this share of in-scope calibration messages.
FALLBACK_DISTANCE_REJECT_RATE = 0.01


@dataclass(frozen=True)
class OperatingPoint:
    """Where the rule cuts: a threshold on the in-scope score and a maximum distance."""

    threshold: float
    max_distance: float | None = None  # None: no distance check (models saved before it existed)


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


def out_of_scope(score: FloatArray, point: OperatingPoint, distance: FloatArray | None = None) -> BoolArray:
    """The rule: out of scope when the in-scope score is below the threshold or the distance above the maximum."""
    rejected = np.asarray(score < point.threshold)
    if point.max_distance is None:
        return rejected
    if distance is None:
        raise ValueError("this operating point has a maximum distance: the messages' distances are needed")
    return rejected | (np.asarray(distance) > point.max_distance)


def calibrate(probs: FloatArray, labels: Sequence[str], classes: Sequence[str],
              distance: FloatArray | None = None) -> OperatingPoint:
    """The operating point that maximises plain accuracy on calibration predictions.

    ``probs`` (and ``distance``, when given) are calibration predictions (out-of-fold in training,
    the validation split in the benchmark) and ``labels`` their true labels, ``out_of_scope``
    counted as one more class: a message is right when it gets its intent and is kept, or is out of
    scope and rejected. The threshold and the maximum distance are picked jointly: the threshold at
    most ``MAX_THRESHOLD``, the maximum distance among the distances of the farthest
    ``MAX_DISTANCE_REJECT_RATE`` of in-scope calibration messages; on a tie, the point that rejects
    fewer calibration messages. Without any out-of-scope example: the threshold that rejects
    ``FALLBACK_REJECT_RATE`` of the correct in-scope predictions, and the maximum distance that
    rejects ``FALLBACK_DISTANCE_REJECT_RATE`` of the in-scope messages. Without ``distance``: no
    maximum distance.
    """
    classes = list(classes)
    labels_arr = np.asarray(labels)
    scores = scope_scores(probs, classes)
    guess = np.asarray(classes)[scores.best]
    is_oos = labels_arr == OUT_OF_SCOPE
    correct = (guess == labels_arr) & ~scores.oos_class & ~is_oos
    dist = None if distance is None else np.asarray(distance, dtype=np.float64)
    if not is_oos.any():
        threshold = 0.0
        if correct.any():
            threshold = float(min(MAX_THRESHOLD, np.quantile(scores.top[correct], FALLBACK_REJECT_RATE)))
        if dist is None or not len(dist):
            return OperatingPoint(threshold)
        return OperatingPoint(threshold, float(np.quantile(dist, 1.0 - FALLBACK_DISTANCE_REJECT_RATE)))
    thresholds = np.unique(np.round(np.concatenate([[0.0], scores.top]), 4))
    thresholds = thresholds[thresholds <= MAX_THRESHOLD]
    max_distances: list[float | None] = [None]
    if dist is not None and (~is_oos).any():
        in_dist = np.sort(dist[~is_oos])[::-1]  # farthest first: the first rejects no in-scope message
        rejectable = int(np.floor(MAX_DISTANCE_REJECT_RATE * len(in_dist)))
        max_distances = [float(d) for d in np.unique(in_dist[:rejectable + 1])[::-1]]
    best: tuple[int, int] | None = None
    point = OperatingPoint(0.0)
    for max_distance in max_distances:
        far: BoolArray = np.zeros(len(labels_arr), dtype=bool)
        if dist is not None and max_distance is not None:
            far = np.asarray(dist > max_distance)
        # per threshold (vectorised): right answers and rejections when rejecting below it or beyond max_distance
        kept_right = np.sort(scores.score[correct & ~far])
        near = np.sort(scores.score[~far])
        oos_near = np.sort(scores.score[is_oos & ~far])
        right = (len(kept_right) - np.searchsorted(kept_right, thresholds, side="left")
                 + int((is_oos & far).sum()) + np.searchsorted(oos_near, thresholds, side="left"))
        rejected = int(far.sum()) + np.searchsorted(near, thresholds, side="left")
        top_right = right == right.max()
        i = int(np.flatnonzero(top_right)[np.argmin(rejected[top_right])])  # the lowest threshold of the fewest
        key = (int(right[i]), -int(rejected[i]))
        if best is None or key > best:  # the farthest maximum distance first: it rejects the fewest
            best, point = key, OperatingPoint(float(thresholds[i]), max_distance)
    return point


def decide(probs: FloatArray, classes: Sequence[str], point: OperatingPoint,
           distance: FloatArray | None = None) -> ScopeDecision:
    """In or out of scope for each row, with the confidence of the decision."""
    s = scope_scores(probs, classes)
    oos = out_of_scope(s.score, point, distance)
    confidence = np.where(s.oos_class, s.p_oos, np.where(oos, 1.0 - s.top, s.top))
    return ScopeDecision(s.best, s.top, oos, confidence)


def decided_labels(decision: ScopeDecision, classes: Sequence[str]) -> npt.NDArray[np.object_]:
    """The final label of each row: the best in-scope class, or ``out_of_scope``."""
    labels = np.asarray(list(classes), dtype=object)[decision.best]
    labels[decision.out_of_scope] = OUT_OF_SCOPE
    return labels


__all__ = ["FALLBACK_DISTANCE_REJECT_RATE", "FALLBACK_REJECT_RATE", "MAX_DISTANCE_REJECT_RATE", "MAX_THRESHOLD",
           "OOS_CLASS_SCORE", "RULE_VERSION", "OperatingPoint", "ScopeDecision", "ScopeScores", "calibrate", "decide",
           "decided_labels", "out_of_scope", "scope_scores"]
