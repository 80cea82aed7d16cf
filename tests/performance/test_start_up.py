"""Start-up asks the database one question when it is current: the migration heads come from the migration
files themselves, and a database that is behind, or ahead, still gets the full Alembic checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.errors import SchemaTooNewError
from bot.storage import migrate
from bot.storage.session import Database


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """A new, empty database migrated by the start-up path."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('startup') / 'helpdesk.db'}")
    assert not migrate.at_heads(db)  # behind the code (empty): start-up must not take the short cut
    migrate.prepare(db)
    return db


def test_a_database_behind_the_code_is_migrated_and_then_current(fresh: Database) -> None:
    assert {"conversation_state", "transcript", "kb_article"} <= set(inspect(fresh.engine).get_table_names())
    assert migrate.at_heads(fresh)
    assert not migrate.pending(fresh)


def test_heads_read_from_the_files_are_alembics(fresh: Database) -> None:
    assert migrate.shipped_heads() == migrate.code_heads(fresh)


def test_a_newer_database_is_still_refused(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'newer.db'}")
    migrate.prepare(db)
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999_from_the_future')"))
    assert not migrate.at_heads(db)
    with pytest.raises(SchemaTooNewError):
        migrate.prepare(db)
