"""Retraining the intent model in the background, with progress: validate → train → save → evaluate → plots.

One :class:`Retrainer` per process. ``start`` returns at once; the work runs in
a daemon thread (never on the server's event loop) and ``status()`` tells how
far it got. The new model is saved by :class:`intents.store.ModelStore`, which
writes a complete version folder before pointing ``LATEST`` at it, and only
then is it handed to ``on_model`` (the caller swaps it into its parser), so a
half-written model is never served.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bot.encoding import EncoderProvider
from bot.errors import HelpdeskError
from intents.factory import NluPaths, classifier_config, load_data, train_and_save
from intents.model import IntentModel
from intents.settings import NluSettings
from training.evaluate import cross_validate
from training.report_files import reports_dir, write_full_report

log = logging.getLogger(__name__)

# (phase label, share of the whole run at its start, share at its end)
PHASES = {"check": ("Checking the training data", 0, 5), "train": ("Training the model", 5, 55),
          "evaluate": ("Evaluating (cross-validation)", 55, 95), "plots": ("Drawing the report", 95, 100)}
STEP_LABELS = {"encode": "encoding sentences", "cross-validate": "cross-validating", "fit": "fitting"}


@dataclass
class RetrainStatus:
    """Where the latest run is: ``state`` idle | running | done | failed, and a 0–100 ``percent``."""

    state: str = "idle"
    phase: str = ""
    step: str = ""
    percent: int = 0
    started_by: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    version: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the status endpoint's body)."""
        return asdict(self)


class Retrainer:
    """Runs one retraining at a time in a background thread."""

    def __init__(self, nlu: NluSettings, paths: NluPaths, encoder_provider: EncoderProvider, *,
                 on_model: Callable[[IntentModel], None] | None = None, folds: int = 5) -> None:
        self.nlu, self.paths, self.encoder_provider = nlu, paths, encoder_provider
        self.on_model = on_model
        self.folds = folds
        self._status = RetrainStatus()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def status(self) -> RetrainStatus:
        """A copy of the current status."""
        with self._lock:
            return RetrainStatus(**asdict(self._status))

    def start(self, started_by: str) -> bool:
        """Start a run; False when one is already running."""
        with self._lock:
            if self._status.state == "running":
                return False
            self._status = RetrainStatus(state="running", phase=PHASES["check"][0], started_by=started_by,
                                         started_at=_now())
            self._thread = threading.Thread(target=self._run, name="nlu-retrain", daemon=True)
            self._thread.start()
        return True

    def join(self, timeout: float | None = None) -> None:
        """Wait for the running thread (tools and shutdown)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _phase(self, name: str) -> Callable[[str, int, int], None]:
        label, start, end = PHASES[name]
        self._update(phase=label, step="", percent=start)

        def progress(step: str, done: int, total: int) -> None:
            share = done / total if total else 1.0
            # a phase's steps (encode, cross-validate, fit) each fill a third of it
            order = list(STEP_LABELS).index(step) if step in STEP_LABELS else 0
            part = (order + share) / len(STEP_LABELS)
            self._update(step=STEP_LABELS.get(step, step), percent=int(start + (end - start) * min(part, 1.0)))

        return progress

    def _update(self, **fields: Any) -> None:
        with self._lock:
            for key, value in fields.items():
                setattr(self._status, key, value)

    def _run(self) -> None:
        version: str | None = None
        try:
            self._phase("check")
            data = load_data(self.nlu, self.paths.data_dir)
            encoder = self.encoder_provider()
            model, version = train_and_save(self.nlu, self.paths, encoder, data=data, progress=self._phase("train"))
            self._update(version=version)
            if self.on_model is not None:
                self.on_model(model)  # the complete, saved model goes into service now
            report = cross_validate(data, encoder, config=classifier_config(self.nlu), folds=self.folds,
                                    cache_path=self.paths.embedding_cache, progress=self._phase("evaluate"))
            self._phase("plots")
            out = reports_dir(self.paths.var_dir)
            write_full_report(report, out, policy=(self.nlu.low_confidence, self.nlu.high_confidence),
                              model_version=version)
            self._update(state="done", phase="Done", step="", percent=100, finished_at=_now())
        except HelpdeskError as exc:
            self._fail(exc.user_message, version)
        except Exception:  # a background thread must always end in a state the page can show
            log.exception("retraining the intent model failed")
            self._fail("Retraining failed unexpectedly; the server log has the details.", version)

    def _fail(self, message: str, version: str | None) -> None:
        if version is not None:
            message = f"Model {version} was trained and is in use, but: {message}"
        self._update(state="failed", error=message, finished_at=_now())


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


__all__ = ["PHASES", "RetrainStatus", "Retrainer"]
