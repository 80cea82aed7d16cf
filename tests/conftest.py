"""Shared fixtures: scratch databases (SQLite always; PostgreSQL when configured), settings, services.

Set HELPDESK_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test to also run
database tests on PostgreSQL: each test gets its own freshly created database, dropped after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.leakcheck", "tests.parallel"]  # the session-level secret-leak check; xdist groups
ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PG_URL = os.environ.get("HELPDESK_TEST_DATABASE_URL")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test (with the reason) when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared specs/benchmarks folder is not beside the checkout")
    return path


def _pg_database(base_url: str) -> Iterator[str]:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base_url.replace("postgresql+psycopg://", "postgresql://"))
    name = f"helpdesk_test_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


DB_BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=DB_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite, and PostgreSQL too when configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'helpdesk.db'}"
    else:
        yield from _pg_database(PG_URL)  # type: ignore[arg-type]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database (for tests whose subject is not the database)."""
    return f"sqlite:///{tmp_path / 'helpdesk.db'}"


@pytest.fixture
def make_settings(tmp_path: Path):
    """Build Settings isolated from the developer's environment and config file."""
    from bot.config import load_settings

    def build(database_url: str, **sections):
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
        values = {
            "database": {"url": database_url},
            "paths": {"data_dir": str(ROOT / "data"), "models_dir": str(tmp_path / "models"),
                      "var_dir": str(tmp_path / "var")},
            "kb": {"articles_dir": str(ROOT / "data" / "kb")},
        }
        for key, value in sections.items():
            values[key] = {**values.get(key, {}), **value}
        empty = tmp_path / "helpdesk.toml"
        empty.touch()
        return load_settings(empty, environ=env, **values)

    return build


@pytest.fixture
def migrated_db(database_url: str):
    """A Database with every migration applied."""
    from bot.storage import migrate
    from bot.storage.session import Database

    db = Database(database_url)
    migrate.upgrade(db)
    yield db
    db.dispose()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless Debian Chromium per test module.

    Not per session: while Playwright's sync API runs it holds an event loop in the main thread, so a
    later module's ``asyncio.run`` (the load harness, the Slack fakes) would fail; and it runs once per thread.
    """
    import shutil

    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
