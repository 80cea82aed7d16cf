"""Fixtures for the understanding tests: one trained default model per session, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_INTENTS = ROOT / "data" / "intents"


@pytest.fixture(scope="session")
def encoder():
    from intents.encoder import get_encoder

    return get_encoder()


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory, encoder) -> Path:
    """A models dir holding a model trained on the shipped data/intents (trained once)."""
    from intents.data import load_training_data
    from intents.store import ModelStore
    from intents.trainer import train_model

    base = tmp_path_factory.mktemp("nlu")
    data = load_training_data(DEFAULT_INTENTS)
    model = train_model(data, encoder, cache_path=base / "emb.npz")
    ModelStore(base / "models").save(model)
    return base / "models"


@pytest.fixture
def seed_embedding_cache(trained_models):
    """Copy the session's embeddings into settings' var cache so training skips re-encoding."""
    def seed(settings):
        target = Path(settings.paths.var_dir) / "cache" / "nlu-embeddings.npz"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(trained_models.parent / "emb.npz", target)

    return seed


@pytest.fixture
def default_model(trained_models):
    from intents.store import ModelStore

    return ModelStore(trained_models).load()


@pytest.fixture
def nlu_settings(make_settings, sqlite_url, trained_models, tmp_path):
    """Settings whose models_dir already holds the trained default model (no retraining)."""
    def build(**sections):
        settings = make_settings(sqlite_url, **sections)
        shutil.copytree(trained_models, settings.paths.models_dir, dirs_exist_ok=True)
        return settings

    return build


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def parser_for(settings, encoder_provider):
    """The serving parser (``build_live_parser``) with the ``[nlu]`` section and the folders of ``settings``, as the
    composition root builds it."""
    from bot.nlu_reload import build_live_parser
    from intents.factory import NluPaths

    paths = settings.paths
    return build_live_parser(settings.nlu, NluPaths(paths.data_dir, paths.models_dir, paths.var_dir),
                             encoder_provider)
