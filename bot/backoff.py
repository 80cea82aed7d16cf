"""One retry schedule for everything that retries an outside system (outboxes, notifications)."""

from __future__ import annotations

import random


def backoff_seconds(attempts: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds before the next try after ``attempts`` failures: exponential, capped, jittered.

    The jitter (±25 %) keeps replicas from retrying in step; a server's
    ``Retry-After`` is a floor.
    """
    delay = min(cap, base * (2 ** max(attempts - 1, 0)))
    delay = delay * (0.75 + random.random() * 0.5)
    return float(max(delay, retry_after or 0.0))


__all__ = ["backoff_seconds"]
