"""``build_parser(settings, encoder_provider)``: the configured NLU backend.

* ``nlu.backend = "builtin"``: the latest model under ``paths.models_dir``;
  when there is none, or the training data (``paths.data_dir/intents``)
  changed since it was trained, it warns and trains one (seconds on the
  default set), so a fresh clone's ``helpdesk chat`` just works.
* ``nlu.backend = "rasa"``: a remote Rasa server's ``POST /model/parse``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from bot.config import Settings
from bot.errors import ConfigError, DataError
from intents.api import IntentParser
from intents.classifier import ClassifierConfig
from intents.data import data_files, fingerprint_files, load_training_data
from intents.model import IntentModel
from intents.store import ModelStore

log = logging.getLogger(__name__)


def intents_dir(settings: Settings) -> Path:
    return Path(settings.paths.data_dir) / "intents"


def embedding_cache_path(settings: Settings) -> Path:
    return Path(settings.paths.var_dir) / "cache" / "nlu-embeddings.npz"


def classifier_config(settings: Settings) -> ClassifierConfig:
    nlu = settings.nlu
    return ClassifierConfig(c=nlu.classifier_c, tfidf=nlu.tfidf_features)


def current_fingerprint(settings: Settings) -> str | None:
    """The fingerprint the model trained from today's data would have (None without data)."""
    folder = intents_dir(settings)
    files = data_files(folder) if folder.is_dir() else []
    if not files:
        return None
    config = classifier_config(settings)
    return fingerprint_files(files, extra=repr(sorted(config.to_json().items())))


def load_data(settings: Settings) -> Any:
    """Validated training data from ``paths.data_dir/intents`` (TrainingDataError lists problems)."""
    return load_training_data(intents_dir(settings), min_examples=settings.nlu.min_examples_per_intent)


def train_and_save(settings: Settings, encoder: Any, *, data: Any = None,
                   progress: Any = None) -> tuple[IntentModel, str]:
    """Validate the data (unless given), train, and write a new model version."""
    from intents.trainer import train_model

    data = data if data is not None else load_data(settings)
    model = train_model(data, encoder, config=classifier_config(settings),
                        cache_path=embedding_cache_path(settings), progress=progress)
    version = ModelStore(settings.paths.models_dir).save(model)
    return model, version


def load_or_train(settings: Settings, encoder_provider: Callable[[], Any]) -> IntentModel:
    """The latest model, retrained first when it is missing or stale (and auto_train is on)."""
    store = ModelStore(settings.paths.models_dir)
    fingerprint = current_fingerprint(settings)
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
            f"No intent model in {store.root} and no training data in {intents_dir(settings)}: "
            "add Rasa NLU files there and run `helpdesk train`."
        )
    reason = "no trained intent model yet" if model is None else "the intent training data changed"
    if not settings.nlu.auto_train:
        if model is not None:
            log.warning("%s since model %s was trained: run `helpdesk train`", reason,
                        model.meta.get("version"))
            return model
        raise ConfigError(f"{reason} in {store.root}: run `helpdesk train` (nlu.auto_train is off).")
    log.warning("%s: training from %s now (run `helpdesk train` to do this ahead of time)",
                reason, intents_dir(settings))
    model, _ = train_and_save(settings, encoder_provider())
    return model


def build_parser(settings: Settings, encoder_provider: Callable[[], Any]) -> IntentParser:
    """The parser the bot uses, per ``nlu.backend``."""
    if settings.nlu.backend == "rasa":
        from integrations.rasa.client import RasaNluClient

        if not settings.nlu.rasa_url:
            raise ConfigError("nlu.backend is \"rasa\" but nlu.rasa_url is not set.")
        return RasaNluClient(settings.nlu.rasa_url, timeout=settings.nlu.rasa_timeout_seconds,
                             token=settings.nlu.rasa_token.get_secret_value() if settings.nlu.rasa_token else None)
    from intents.parser import BuiltinParser

    return BuiltinParser(load_or_train(settings, encoder_provider), encoder_provider)
