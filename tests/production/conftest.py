"""Fixtures for the production slice: real `helpdesk serve` subprocesses (bench/harness), shared per module."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.harness.runs import Deployment, deployment
from bench.harness.stack import SLACK_SPEC, prepare_models
from tests.conftest import PG_URL

# Reused across sessions: exporting the encoder and training take about a minute once, seconds when current.
MODELS = Path(tempfile.gettempdir()) / "helpdesk-production-models"


@pytest.fixture(scope="session")
def harness_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ONNX encoder and the intent model, prepared once; every replica process reads them."""
    prepare_models(MODELS, tmp_path_factory.mktemp("prepare"))
    return MODELS


def _requires_slack_spec() -> None:
    if not SLACK_SPEC.exists():
        pytest.skip(f"{SLACK_SPEC} is absent: the shared specs folder is not beside the checkout")


@pytest.fixture(scope="module")
def sqlite_server(harness_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One `helpdesk serve` on a fresh SQLite database, with the fake Slack."""
    _requires_slack_spec()
    with deployment(tmp_path_factory.mktemp("sqlite-serve"), backend="sqlite", replicas=1,
                    models_dir=harness_models, pg_url=None) as dep:
        yield dep


@pytest.fixture(scope="module")
def pg_replicas(harness_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Two `helpdesk serve` processes on one fresh PostgreSQL database, with the fake Slack."""
    if not PG_URL:
        pytest.skip("PostgreSQL is not configured (set HELPDESK_TEST_DATABASE_URL)")
    _requires_slack_spec()
    with deployment(tmp_path_factory.mktemp("pg-serve"), backend="postgresql", replicas=2,
                    models_dir=harness_models, pg_url=PG_URL) as dep:
        yield dep
