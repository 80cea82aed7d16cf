"""``load_or_train(nlu, paths, encoder_provider)``: the model of the built-in NLU backend (``nlu.backend = "builtin"``).

The latest model under ``paths.models_dir``; when there is none, or the
training data (``paths.data_dir/intents``) changed since it was trained, it
warns and trains one (seconds on the default set), so a fresh clone's
``helpdesk chat`` just works. The serving parser over it is
``bot.nlu_reload.build_live_parser``'s (``nlu.backend = "rasa"`` is
``integrations.rasa.client.build_rasa_parser``; the composition root picks.)

Everything here receives the ``[nlu]`` section and explicit folders, never the
whole settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.encoding import EncoderProvider, TextEncoder
from bot.errors import ConfigError, DataError
from intents.classifier import ClassifierConfig
from intents.data import TrainingData, data_files, fingerprint_files, load_training_data
from intents.model import IntentModel
from intents.settings import NluSettings
from intents.store import ModelStore
from intents.trainer import Progress, fingerprint_extra

log = logging.getLogger(__name__)
# Why a saved model no longer matches what training would build today (its fingerprint differs).
STALE = "the intent training data changed (or the classifier settings or out-of-scope rule it was trained under)"


@dataclass(frozen=True)
class NluPaths:
    """Where the understanding module reads data and writes models and caches."""

    data_dir: Path
    models_dir: Path
    var_dir: Path

    @property
    def intents_dir(self) -> Path:
        """The Rasa training data: ``data_dir/intents``."""
        return intents_dir(self.data_dir)

    @property
    def embedding_cache(self) -> Path:
        """The sentence-embedding cache of training."""
        return embedding_cache_path(self.var_dir)


def intents_dir(data_dir: Path | str) -> Path:
    """The folder of Rasa NLU files under ``data_dir``."""
    return Path(data_dir) / "intents"


def embedding_cache_path(var_dir: Path | str) -> Path:
    """The embedding cache file under ``var_dir``."""
    return Path(var_dir) / "cache" / "nlu-embeddings.npz"


def classifier_config(nlu: NluSettings) -> ClassifierConfig:
    """The classifier's hyper-parameters from the ``[nlu]`` section."""
    return ClassifierConfig(c=nlu.classifier_c, tfidf=nlu.tfidf_features)


def current_fingerprint(nlu: NluSettings, data_dir: Path | str) -> str | None:
    """The fingerprint the model trained from today's data would have (None without data)."""
    folder = intents_dir(data_dir)
    files = data_files(folder) if folder.is_dir() else []
    if not files:
        return None
    config = classifier_config(nlu)
    return fingerprint_files(files, extra=fingerprint_extra(config))


def load_data(nlu: NluSettings, data_dir: Path | str) -> TrainingData:
    """Validated training data from ``data_dir/intents`` (TrainingDataError lists problems)."""
    return load_training_data(intents_dir(data_dir), min_examples=nlu.min_examples_per_intent)


def data_summary(data: TrainingData) -> dict[str, Any]:
    """What ``helpdesk nlu validate`` reports about valid data."""
    return {"files": [str(f) for f in data.files], "examples": len(data.examples),
            "intents": data.counts(), "regexes": sorted({p.name for p in data.regexes}),
            "lookups": {k: len(v) for k, v in data.lookups.items()}, "synonyms": len(data.synonyms),
            "fingerprint": data.fingerprint}


def train_and_save(nlu: NluSettings, paths: NluPaths, encoder: TextEncoder, *, data: TrainingData | None = None,
                   progress: Progress | None = None) -> tuple[IntentModel, str]:
    """Validate the data (unless given), train, and write a new model version."""
    from intents.trainer import train_model

    data = data if data is not None else load_data(nlu, paths.data_dir)
    model = train_model(data, encoder, config=classifier_config(nlu),
                        cache_path=paths.embedding_cache, progress=progress)
    version = ModelStore(paths.models_dir).save(model)
    return model, version


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def training_summary(model: IntentModel, version: str, models_dir: Path | str) -> dict[str, Any]:
    """What ``helpdesk train`` reports about the model it saved."""
    return {
        "version": version, "models_dir": str(Path(models_dir) / "nlu" / version),
        "examples": model.meta.get("examples"), "intents": len(model.intents),
        "oos_threshold": round(model.oos_threshold, 4), "max_distance": _rounded(model.operating_point.max_distance),
        "fingerprint": model.fingerprint,
        "training_seconds": model.meta.get("training_seconds"),
    }


def model_status(nlu: NluSettings, paths: NluPaths) -> dict[str, Any]:
    """Which model is saved, and whether it is stale: the training data, the classifier settings or the
    out-of-scope rule changed since it was trained."""
    store = ModelStore(paths.models_dir)
    model = store.load()
    fingerprint = current_fingerprint(nlu, paths.data_dir)
    return {"backend": nlu.backend, "models_dir": str(store.root), "versions": store.versions(),
            "latest": model.meta.get("version") if model else None,
            "data_fingerprint": fingerprint, "model_fingerprint": model.fingerprint if model else None,
            "stale": bool(model and fingerprint and model.fingerprint != fingerprint)}


def load_or_train(nlu: NluSettings, paths: NluPaths, encoder_provider: EncoderProvider) -> IntentModel:
    """The latest model, retrained first when it is missing or stale (and auto_train is on)."""
    store = ModelStore(paths.models_dir)
    fingerprint = current_fingerprint(nlu, paths.data_dir)
    model: IntentModel | None
    try:
        model = store.load()
    except DataError as exc:
        log.warning("the saved NLU model is unusable (%s); retraining", exc.user_message)
        model = None
    if model is not None and (fingerprint is None or model.fingerprint == fingerprint):
        return model
    if fingerprint is None:
        if model is not None:
            return model
        raise ConfigError(
            f"No intent model in {store.root} and no training data in {paths.intents_dir}: "
            "add Rasa NLU files there and run `helpdesk train`."
        )
    reason = "no trained intent model yet" if model is None else STALE
    if not nlu.auto_train:
        if model is not None:
            log.warning("%s since model %s was trained: run `helpdesk train`", reason,
                        model.meta.get("version"))
            return model
        raise ConfigError(f"{reason} in {store.root}: run `helpdesk train` (nlu.auto_train is off).")
    log.warning("%s: training from %s now (run `helpdesk train` to do this ahead of time)",
                reason, paths.intents_dir)
    model, _ = train_and_save(nlu, paths, encoder_provider())
    return model
