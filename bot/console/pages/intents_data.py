"""The intents pages' data: the Rasa files' editor, the model's status, the retrainer, the latest report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.services import Services
from intents.editing import IntentsEditor, IntentsView
from intents.factory import NluPaths, intents_dir, model_status
from intents.model import IntentModel
from training.report_files import load_report, reports_dir
from training.retrain import Retrainer

PLOTS = (  # (file, heading, what it shows — the image's alt text)
    ("intent_f1.png", "F1 per intent", "Bar chart of the cross-validated F1 score of each intent, lowest first."),
    ("intent_confusion.png", "Confusion matrix", "Matrix of true intents against predicted intents."),
    ("intent_confidence.png", "Confidence calibration",
     "Histogram of the decided intent's confidence for correct and wrong predictions, with the thresholds."),
)


def nlu_paths(services: Services) -> NluPaths:
    """The data, models and var folders of this process."""
    p = services.settings.paths
    return NluPaths(Path(p.data_dir), Path(p.models_dir), Path(p.var_dir))


def editor_for(services: Services) -> IntentsEditor:
    """The editor over data/intents (the same files `helpdesk train` reads)."""
    return IntentsEditor(intents_dir(services.settings.paths.data_dir),
                         min_examples=services.settings.nlu.min_examples_per_intent)


def swap_model(services: Services, model: IntentModel) -> None:
    """Put a newly trained (and saved) model into the running parser; a parser not built yet loads it itself."""
    from intents.parser import BuiltinParser

    if services.has_loaded("nlu") and isinstance(services.nlu, BuiltinParser):
        services.nlu.model = model  # one attribute assignment: a turn sees the old model or the new, never half


def make_retrainer(services: Services) -> Retrainer:
    """The process's retrainer: trains with the shared encoder and swaps the model in when saved."""
    return Retrainer(services.settings.nlu, nlu_paths(services), lambda: services.encoder,
                     on_model=lambda model: swap_model(services, model))


def status_of(services: Services) -> dict[str, Any]:
    """Which model is saved and whether the data changed since (as `helpdesk nlu status`)."""
    return model_status(services.settings.nlu, nlu_paths(services))


def intent_rows(view: IntentsView) -> list[dict[str, Any]]:
    """One row per intent: its example count and the files it is written in."""
    return [{"name": name, "count": len(exs), "files": sorted({view.relative(e.path) for e in exs})}
            for name, exs in view.examples.items()]


def problem_rows(view: IntentsView) -> list[dict[str, Any]]:
    """Every validation problem with its file:line (relative to the intents folder)."""
    return [{"location": f"{view.relative(p.path)}:{p.line}" if p.line else view.relative(p.path),
             "message": p.message, "severity": p.severity} for p in view.problems]


def example_rows(view: IntentsView, intent: str) -> list[dict[str, Any]]:
    """The examples of one intent with where each is written."""
    return [{"text": e.text, "file": view.relative(e.path), "line": e.line,
             "entities": [f"{a.text} → {a.entity}" for a in e.entities]}
            for e in view.examples.get(intent, [])]


def latest_report(services: Services) -> dict[str, Any] | None:
    """The latest evaluation report (`helpdesk nlu test` or a console retrain), if any."""
    return load_report(reports_dir(services.settings.paths.var_dir))


def report_dir(services: Services) -> Path:
    """Where the report's plots are."""
    return reports_dir(services.settings.paths.var_dir)


__all__ = ["PLOTS", "editor_for", "example_rows", "intent_rows", "latest_report", "make_retrainer", "nlu_paths",
           "problem_rows", "report_dir", "status_of", "swap_model"]
