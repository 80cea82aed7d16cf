"""How far a message's embedding lies from every in-scope intent: the out-of-scope rule's second signal.

The distance is the squared Mahalanobis distance to the nearest in-scope
intent's mean embedding, under one covariance shared by all intents: the
spread of in-scope training embeddings around their own intent's mean, shrunk
by ``SHRINKAGE`` towards the identity scaled to the same average variance (so a
few hundred examples in 384 dimensions still give a well-conditioned estimate).
``out_of_scope`` training examples take no part: the model describes what is
in scope.

Per message it costs one (384 x 384) product and one dot product per intent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from intents.api import OUT_OF_SCOPE

FloatArray = npt.NDArray[np.floating]

# Weight of the scaled identity in the shared covariance. Chosen on CLINC150 val by the calibration
# objective (plain accuracy of the whole rule): it rose steadily from 0.1 to 0.99, far above what
# Ledoit-Wolf picks (0.03), which helped no better than no distance at all; see the README.
SHRINKAGE = 0.99
# Keys in the model's weights file (absent in models saved before the distance check existed).
MEANS_KEY = "distance_means"
PRECISION_KEY = "distance_precision"


class DistanceModel:
    """In-scope intent means and the shared precision matrix (inverse covariance)."""

    def __init__(self, means: np.ndarray, precision: np.ndarray) -> None:
        self.means = np.ascontiguousarray(means, dtype=np.float32)
        self.precision = np.ascontiguousarray(precision, dtype=np.float32)
        # d(x, m) = x'Px - 2 x'(Pm) + m'Pm: per message one product with P, then one dot per intent.
        self._means_p = np.ascontiguousarray(self.means @ self.precision)
        self._means_pm = np.einsum("ij,ij->i", self._means_p, self.means)

    @classmethod
    def fit(cls, embeddings: np.ndarray, labels: Sequence[str]) -> DistanceModel:
        """Means of the in-scope intents and the shrunk covariance of the residuals around them."""
        labels_arr = np.asarray(list(labels), dtype=object)
        keep = labels_arr != OUT_OF_SCOPE
        X = np.asarray(embeddings, dtype=np.float64)[keep]
        y = labels_arr[keep]
        if not len(X):
            raise ValueError("the distance model needs in-scope examples")
        intents = sorted(set(y))
        means = np.stack([X[y == c].mean(axis=0) for c in intents])
        residuals = X - means[np.searchsorted(np.asarray(intents, dtype=object), y)]
        sample = residuals.T @ residuals / len(residuals)
        scale = float(np.trace(sample)) / sample.shape[0] or 1.0  # 0: one example per intent, no spread
        covariance = (1.0 - SHRINKAGE) * sample + SHRINKAGE * scale * np.eye(sample.shape[0])
        return cls(means, np.linalg.inv(covariance))

    def min_distance(self, embeddings: np.ndarray) -> FloatArray:
        """Per row: the squared Mahalanobis distance to the nearest in-scope intent mean."""
        Z = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
        ZP = Z @ self.precision
        d = np.einsum("ij,ij->i", ZP, Z)[:, None] - 2.0 * (Z @ self._means_p.T) + self._means_pm[None, :]
        return np.maximum(d.min(axis=1), 0.0)

    # --- persistence ------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        return {MEANS_KEY: self.means, PRECISION_KEY: self.precision}

    @classmethod
    def from_saved(cls, arrays: dict[str, np.ndarray]) -> DistanceModel | None:
        """The saved distance model, or None for a model saved without one."""
        if MEANS_KEY not in arrays or PRECISION_KEY not in arrays:
            return None
        return cls(arrays[MEANS_KEY], arrays[PRECISION_KEY])
