"""Conversation stories: one trained intent model and one knowledge base for every story.

Each story runs as its own employee (its own user key) on a shared scratch database,
with its own fake clock, so stories cannot see each other's forms or tickets.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="session")
def story_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Services on a migrated SQLite database, with the intent model trained once for the session."""
    from bot.config import load_settings
    from bot.services import Services
    from bot.storage import migrate

    tmp: Path = tmp_path_factory.mktemp("stories")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    empty = tmp / "helpdesk.toml"
    empty.touch()
    settings = load_settings(empty, environ=env, **{
        "database": {"url": f"sqlite:///{tmp / 'helpdesk.db'}"},
        "paths": {"data_dir": str(ROOT / "data"), "models_dir": str(tmp / "models"), "var_dir": str(tmp / "var")},
        "kb": {"articles_dir": str(ROOT / "data" / "kb")},
        "ticketing": {"duplicate_method": "off"},
    })
    services = Services(settings)
    migrate.prepare(services.db)
    _ = services.nlu  # train (or load) once
    yield services
    services.db.dispose()
