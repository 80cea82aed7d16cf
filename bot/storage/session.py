"""Engine and session factory for one database URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import ConfigError, StorageError


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def describe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable database URL)"


class Database:
    """Owns one SQLAlchemy engine and hands out sessions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        try:
            parsed = make_url(self.url)
        except ArgumentError:
            raise ConfigError(
                "database.url is not a valid database URL (expected e.g. sqlite:///var/helpdesk.db "
                "or postgresql://user@host/db)."
            ) from None
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if parsed.get_backend_name() == "sqlite":
            db = parsed.database
            if db and db != ":memory:":
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {"connect_timeout": 5}
        try:
            self.engine: Engine = create_engine(self.url, **kwargs)
        except (ArgumentError, ModuleNotFoundError) as exc:
            raise ConfigError(f"database.url cannot be used: {exc}") from None
        if parsed.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def check(self) -> None:
        """Raise StorageError (user-safe) if the database cannot be reached."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except (OperationalError, SQLAlchemyError) as exc:
            raise StorageError(
                f"Cannot connect to the database at {describe_url(self.url)}; "
                "check database.url and that the server is running.",
                detail=type(exc).__name__,
            ) from None

    def check_writable(self) -> None:
        """Raise StorageError if the database answers but cannot take a write (read-only file or replica).

        Nothing is kept: SQLite rewrites a header field unchanged and rolls back;
        PostgreSQL is asked whether this is a read-only (recovering / standby) server.
        The message names no host, user or database: it may be shown on /readyz.
        """
        try:
            with self.engine.connect() as conn:
                if self.dialect == "sqlite":  # rewrite the header's user_version unchanged, then roll back
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                    try:
                        version = conn.exec_driver_sql("PRAGMA user_version").scalar()
                        conn.exec_driver_sql(f"PRAGMA user_version = {int(version or 0)}")
                    finally:
                        conn.exec_driver_sql("ROLLBACK")
                elif self.dialect == "postgresql":
                    if conn.execute(text("SELECT pg_is_in_recovery() OR "
                                         "current_setting('transaction_read_only') = 'on'")).scalar():
                        raise StorageError("The database is read-only.")
        except StorageError:
            raise
        except (OperationalError, SQLAlchemyError) as exc:
            readonly = "readonly" in str(exc).lower() or "read-only" in str(exc).lower()
            raise StorageError("The database is read-only." if readonly else "The database is not reachable.",
                               detail=type(exc).__name__) from None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessionmaker() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    # with WAL, NORMAL survives a crash of the process (kill -9) intact; only a power cut can lose
    # the last commits — and it saves an fsync on every commit
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
