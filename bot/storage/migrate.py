"""Alembic migrations, driven from code (``helpdesk db upgrade``, start-up checks).

Start-up first asks the database for its revisions and compares them with the heads read straight from the
migration files (:func:`shipped_heads`): when they are equal, there is nothing to do and Alembic is never
imported (a quarter of a cold ``helpdesk ask``). Anything else takes the full Alembic path.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import SchemaTooNewError
from bot.storage.session import Database

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MISSING = object()


def alembic_config(db: Database) -> Config:
    """Alembic's configuration for ``db`` (the migrations shipped with the bot)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = db.engine
    return cfg


def _script(db: Database) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(db))


def code_heads(db: Database) -> set[str]:
    """The migration heads the code ships."""
    return set(_script(db).get_heads())


def _assigned(source: str, name: str) -> Any:
    """The literal assigned to module-level ``name`` in a migration file (``_MISSING`` when not a plain literal)."""
    found = re.search(rf"^{name}\s*(?::[^=\n]*)?=\s*(.+?)\s*(?:#.*)?$", source, re.M)
    if found is None:
        return _MISSING
    try:
        return ast.literal_eval(found.group(1))
    except (ValueError, SyntaxError):
        return _MISSING


def shipped_heads() -> set[str] | None:
    """The heads of the shipped migrations, read from the files' ``revision``/``down_revision`` lines without
    importing Alembic; None when a file is not in that plain form (the caller then asks Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        revision, down = _assigned(source, "revision"), _assigned(source, "down_revision")
        if not isinstance(revision, str) or down is _MISSING:
            return None
        revisions.add(revision)
        downs = (down,) if isinstance(down, str) else tuple(down or ())
        if not all(isinstance(d, str) for d in downs):
            return None
        parents.update(downs)
    return revisions - parents or None


def at_heads(db: Database) -> bool:
    """Whether the database is exactly at the shipped heads (nothing pending, nothing newer). False when that
    cannot be told cheaply (no version table, unreachable, unusual migration files): the full checks decide."""
    heads = shipped_heads()
    if heads is None:
        return False
    try:
        with db.engine.connect() as conn:
            current = {str(r[0]) for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except SQLAlchemyError:
        return False
    return current == heads


def database_revisions(db: Database) -> set[str]:
    """The revisions the database is at."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def pending(db: Database) -> bool:
    """True when the database lacks migrations this code has."""
    script = _script(db)
    current = database_revisions(db)
    known = {rev.revision for rev in script.walk_revisions()}
    applied: set[str] = set()
    for rev in current:
        if rev in known:
            applied |= {r.revision for r in script.iterate_revisions(rev, "base")}
    return bool(known - applied)


def check_not_newer(db: Database) -> None:
    """Refuse a database migrated by newer code (a revision this code does not know)."""
    script = _script(db)
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = database_revisions(db) - known
    if unknown:
        raise SchemaTooNewError(
            "The database schema (revision "
            + ", ".join(sorted(unknown))
            + ") is newer than this version of the helpdesk bot knows; "
            "upgrade the bot, or point database.url at another database.",
        )


def _upgrade_heads(db: Database) -> None:
    from alembic import command

    command.upgrade(alembic_config(db), "heads")


def upgrade(db: Database) -> list[str]:
    """Apply every pending migration; return the revisions now applied (heads)."""
    db.check()
    check_not_newer(db)
    _upgrade_heads(db)
    return sorted(database_revisions(db))


def prepare(db: Database, *, auto_migrate: bool = True) -> None:
    """Start-up: check reachability, refuse newer schemas, apply pending migrations."""
    if at_heads(db):  # the usual start: reachable and current, told by one query
        return
    db.check()
    check_not_newer(db)
    if pending(db):
        if not auto_migrate:
            from bot.errors import StorageError

            raise StorageError(
                "The database needs migrations; run `helpdesk db upgrade` first."
            )
        _upgrade_heads(db)
