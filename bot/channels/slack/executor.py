"""A thread pool that knows when it is idle (so tests can wait for work done after the ack)."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class TrackingExecutor(ThreadPoolExecutor):
    """ThreadPoolExecutor + ``wait_idle()``: blocks until every submitted task (and those they submit) ended."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="slack-listener")
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        with self._idle:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)


class PerKeyQueue:
    """Runs tasks on ``pool`` one at a time per key, in arrival order (different keys in parallel).

    One employee's messages are answered in the order they were sent, and two turns of
    the same conversation never race on its state.
    """

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool
        self._queues: dict[str, deque[tuple[Callable[..., Any], dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    def submit(self, key: str, fn: Callable[..., Any], /, **kwargs: Any) -> None:
        with self._lock:
            queue = self._queues.get(key)
            if queue is not None:  # a drainer for this key is running: it will pick this up
                queue.append((fn, kwargs))
                return
            self._queues[key] = deque([(fn, kwargs)])
        self.pool.submit(self._drain, key)

    def _drain(self, key: str) -> None:
        while True:
            with self._lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    return
                fn, kwargs = queue.popleft()
            try:
                fn(**kwargs)
            except Exception:  # one failed task must not stop the user's later ones
                log.exception("Slack task for %s failed", key)
