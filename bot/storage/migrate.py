"""Alembic migrations, driven from code (``helpdesk db upgrade``, start-up checks)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.errors import SchemaTooNewError
from bot.storage.session import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    """Alembic's configuration for ``db`` (the migrations shipped with the bot)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = db.engine
    return cfg


def code_heads(db: Database) -> set[str]:
    """The migration heads the code ships."""
    return set(ScriptDirectory.from_config(alembic_config(db)).get_heads())


def database_revisions(db: Database) -> set[str]:
    """The revisions the database is at."""
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def pending(db: Database) -> bool:
    """True when the database lacks migrations this code has."""
    script = ScriptDirectory.from_config(alembic_config(db))
    current = database_revisions(db)
    known = {rev.revision for rev in script.walk_revisions()}
    applied: set[str] = set()
    for rev in current:
        if rev in known:
            applied |= {r.revision for r in script.iterate_revisions(rev, "base")}
    return bool(known - applied)


def check_not_newer(db: Database) -> None:
    """Refuse a database migrated by newer code (a revision this code does not know)."""
    script = ScriptDirectory.from_config(alembic_config(db))
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = database_revisions(db) - known
    if unknown:
        raise SchemaTooNewError(
            "The database schema (revision "
            + ", ".join(sorted(unknown))
            + ") is newer than this version of the helpdesk bot knows; "
            "upgrade the bot, or point database.url at another database.",
        )


def upgrade(db: Database) -> list[str]:
    """Apply every pending migration; return the revisions now applied (heads)."""
    db.check()
    check_not_newer(db)
    command.upgrade(alembic_config(db), "heads")
    return sorted(database_revisions(db))


def prepare(db: Database, *, auto_migrate: bool = True) -> None:
    """Start-up: check reachability, refuse newer schemas, apply pending migrations."""
    db.check()
    check_not_newer(db)
    if pending(db):
        if not auto_migrate:
            from bot.errors import StorageError

            raise StorageError(
                "The database needs migrations; run `helpdesk db upgrade` first."
            )
        command.upgrade(alembic_config(db), "heads")
