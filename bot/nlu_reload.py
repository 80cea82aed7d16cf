"""The serving parser follows the newest saved intent model, without a restart.

A retraining (console *Retrain*, ``helpdesk train``, ``training.retrain``)
saves a complete version under ``models_dir/nlu`` and then points ``LATEST``
at it; the process that trained swaps it in at once. Every other process
(each ``helpdesk serve`` worker, the Slack Socket Mode worker, the Rasa-style
``/model/parse``) reads that pointer when it parses a message, at most every
``nlu.model_check_seconds`` (one small file read, under 0.1 ms). When it names
another version, the turn that noticed loads it (11-24 ms for the default
model) and swaps it in with one attribute assignment: a turn sees the old model
or the new, never a half-loaded one; turns running meanwhile keep the old one.
A version that cannot be loaded is logged once as a warning and skipped until
``LATEST`` names another one; the old model keeps serving (``status()`` says so).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bot.encoding import EncoderProvider
from bot.errors import HelpdeskError
from intents.api import ParseResult
from intents.factory import NluPaths, load_or_train
from intents.model import IntentModel
from intents.parser import BuiltinParser
from intents.settings import NluSettings
from intents.store import ModelStore

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class ModelFollower:
    """Keeps ``parser.model`` on the version ``LATEST`` names, checking at most every ``interval`` seconds."""

    def __init__(self, parser: BuiltinParser, store: ModelStore, interval: float, *,
                 clock: Clock = time.monotonic) -> None:
        self.parser, self.store, self.interval, self._clock = parser, store, interval, clock
        self._next_check = clock() + interval
        self._lock = threading.Lock()  # one check/load at a time; other turns do not wait for it
        self._skipped: str | None = None  # the version that failed to load (not retried)
        self._problem: str | None = None
        self._pointer_error: str | None = None

    @property
    def problem(self) -> str | None:
        """Why a newer saved model is not in use (None when the latest one is)."""
        return self._problem

    def poll(self) -> None:
        """Swap in the latest saved model when the interval has passed and it changed; never raises."""
        if self.interval <= 0 or self._clock() < self._next_check:
            return
        if not self._lock.acquire(blocking=False):
            return  # another turn is checking or loading right now
        try:
            self._next_check = self._clock() + self.interval
            self._follow()
        finally:
            self._lock.release()

    def _serving(self) -> str | None:
        version = self.parser.model.meta.get("version")
        return str(version) if version else None

    def _follow(self) -> None:
        try:
            latest = self.store.latest_version()
        except OSError as exc:  # the models folder went away or is unreadable: keep serving
            message = f"cannot read {self.store.root} ({exc.strerror or exc})"
            if message != self._pointer_error:
                log.warning("intent model check: %s; still serving model %s", message, self._serving())
            self._pointer_error = message
            return
        self._pointer_error = None
        serving = self._serving()
        if latest is None or latest == serving:
            self._problem = None
            return
        if latest == self._skipped:
            return
        model = self._load(latest, serving)
        if model is None:
            return
        if self._serving() != serving:  # this process's own retrainer swapped a model in meanwhile
            return
        self.parser.model = model  # one assignment: each parse reads the old model or the new
        self._skipped = self._problem = None
        log.info("now serving intent model %s (was %s)", latest, serving)

    def _load(self, version: str, serving: str | None) -> IntentModel | None:
        try:
            model = self.store.load(version)
            if model is None:
                raise HelpdeskError(f"model {version} is gone")
        except HelpdeskError as exc:
            reason = exc.user_message
        except Exception as exc:  # noqa: BLE001 - a bad file must never break the turn that noticed it
            log.debug("loading intent model %s failed", version, exc_info=True)
            reason = f"{type(exc).__name__}: {exc}"
        else:
            return model
        self._skipped = version
        self._problem = (f"the newest saved intent model {version} cannot be loaded ({reason}); "
                         f"still serving model {serving}")
        log.warning("%s; run `helpdesk train` to save a good one", self._problem)
        return None


class LiveParser(BuiltinParser):
    """The built-in parser whose model follows the newest saved version (see the module docstring)."""

    def __init__(self, model: IntentModel, encoder_provider: EncoderProvider, *, store: ModelStore,
                 check_seconds: float, clock: Clock = time.monotonic) -> None:
        super().__init__(model, encoder_provider)
        self.follower = ModelFollower(self, store, check_seconds, clock=clock)

    def parse(self, text: str, embedding: np.ndarray | None = None) -> ParseResult:
        """Understand one message with the latest model (checked first when the interval has passed)."""
        self.follower.poll()
        return super().parse(text, embedding)

    def parse_batch(self, texts: Sequence[str], embeddings: np.ndarray | None = None) -> list[ParseResult]:
        """Understand many messages with the latest model."""
        self.follower.poll()
        return super().parse_batch(texts, embeddings)

    def status(self) -> dict[str, Any]:
        """The loaded model's facts, plus ``model_problem`` when a newer saved one could not be loaded."""
        out = super().status()
        if self.follower.problem:
            out["model_problem"] = self.follower.problem
        return out


def build_live_parser(nlu: NluSettings, paths: NluPaths, encoder_provider: EncoderProvider) -> LiveParser:
    """The serving parser: the latest model (trained first when missing or stale), then followed."""
    model = load_or_train(nlu, paths, encoder_provider)
    return LiveParser(model, encoder_provider, store=ModelStore(paths.models_dir),
                      check_seconds=nlu.model_check_seconds)


__all__ = ["LiveParser", "ModelFollower", "build_live_parser"]
