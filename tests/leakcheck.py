"""Session-level secret-leak check (a pytest plugin, registered from tests/conftest.py).

Tests register every secret they type or receive — passwords, temporary passwords,
reset-link tokens — with :func:`register_secret` (or the ``leak_registry`` fixture),
and the places a secret must never reach that are not logs: database dumps
(:func:`register_dump`) and database files (:func:`register_file`).

Every log record of the session is captured (raw: before any redaction by the
bot's handlers). When the session ends, every registered secret is searched for in
all captured records, all registered dumps and all registered files, whichever tests
ran and in whatever order; a leak fails the session with a message naming the test
that registered the secret and where it was found.

Reset-link tokens (``kind="token"``) are expected in the request lines of the
test's own HTTP client (``httpx``/``httpcore``: the employee's browser opens the
link); everywhere else they count as leaks like passwords.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

KINDS = ("password", "token")
CLIENT_LOGGERS = ("httpx", "httpcore")  # the test's HTTP client: may show the URL (with its token) it opens
BETWEEN_TESTS = "(between tests)"
MAX_PLACES = 5  # places listed per leaked secret


@dataclass
class _Record:
    logger: str
    level: str
    test: str
    text: str


@dataclass
class _Dump:
    source: str
    test: str
    text: str
    must_contain: tuple[str, ...]


@dataclass
class _File:
    path: Path
    source: str
    test: str


@dataclass
class LeakRegistry:
    """Everything registered during the session (one per process; see :data:`REGISTRY`)."""

    secrets: dict[str, tuple[str, str]] = field(default_factory=dict)  # value -> (kind, first registering test)
    records: list[_Record] = field(default_factory=list)
    dumps: list[_Dump] = field(default_factory=list)
    files: list[_File] = field(default_factory=list)
    current_test: str = BETWEEN_TESTS
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def secret(self, *values: str | None, kind: str = "password") -> None:
        """Register secrets this test typed or received: none may appear in a log, dump or file."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        with self.lock:
            for value in values:
                if value and value not in self.secrets:
                    self.secrets[value] = (kind, self.current_test)

    def dump(self, text: str, source: str, *, must_contain: tuple[str, ...] = ()) -> None:
        """Register a database dump (text) to search; ``must_contain`` proves it is a real dump."""
        with self.lock:
            self.dumps.append(_Dump(source, self.current_test, text, must_contain))

    def file(self, path: Path | str, source: str | None = None) -> None:
        """Register a file (e.g. a SQLite database) whose bytes are searched when the session ends."""
        with self.lock:
            self.files.append(_File(Path(path), source or str(path), self.current_test))

    def capture(self, record: _Record) -> None:
        """Keep one log record's text for the final search."""
        self.records.append(record)

    def findings(self) -> list[str]:
        """Every problem found: leaks, and registrations that cannot be checked."""
        problems = self._broken_registrations()
        if not self.secrets:
            return problems
        logs = "\n".join(r.text for r in self.records)
        dumps = "\n".join(d.text for d in self.dumps)
        contents: list[tuple[_File, bytes | None]] = []
        for f in self.files:
            try:
                contents.append((f, f.path.read_bytes()))
            except OSError as exc:
                problems.append(f"registered file {f.source} (by {f.test}) cannot be read: {exc.strerror}")
        for value, (kind, registered_by) in sorted(self.secrets.items(), key=lambda item: item[1][1]):
            places: list[str] = []
            if value in logs:
                places += [f"a log record of {r.logger!r} ({r.level}) emitted during {r.test}"
                           for r in self.records if value in r.text
                           and not (kind == "token" and r.logger.split(".")[0] in CLIENT_LOGGERS)]
            if value in dumps:
                places += [f"the database dump {d.source} (registered by {d.test})"
                           for d in self.dumps if value in d.text]
            encoded = value.encode("utf-8")
            places += [f"the file {f.source} (registered by {f.test})"
                       for f, data in contents if data is not None and encoded in data]
            if places:
                shown = places[:MAX_PLACES] + ([f"... and {len(places) - MAX_PLACES} more"]
                                               if len(places) > MAX_PLACES else [])
                problems.append(f"{kind} {_masked(value)} registered by {registered_by} was found in:\n"
                                + "\n".join(f"      - {p}" for p in shown))
        return problems

    def _broken_registrations(self) -> list[str]:
        problems = [f"the database dump {d.source} (registered by {d.test}) does not look like a real dump: "
                    f"no {', '.join(m for m in d.must_contain if m not in d.text)}"
                    for d in self.dumps if any(m not in d.text for m in d.must_contain)]
        if self.dumps and not self.records:
            problems.append("databases were registered but no log record was captured: the log capture is broken")
        return problems


def _masked(value: str) -> str:
    return f"'{value[:3]}…' ({len(value)} characters)"


REGISTRY = LeakRegistry()


@contextmanager
def debug_logging() -> Iterator[None]:
    """The root logger at DEBUG meanwhile, so every record passes the leak check's handler."""
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.setLevel(old)


def register_secret(*values: str | None, kind: str = "password") -> None:
    """Register secrets (passwords, temporary passwords; ``kind="token"`` for reset-link tokens)."""
    REGISTRY.secret(*values, kind=kind)


def register_dump(text: str, source: str, *, must_contain: tuple[str, ...] = ()) -> None:
    """Register a database dump to search at the end of the session."""
    REGISTRY.dump(text, source, must_contain=must_contain)


def register_file(path: Path | str, source: str | None = None) -> None:
    """Register a file (a SQLite database) whose bytes are searched at the end of the session."""
    REGISTRY.file(path, source)


class _Capture(logging.Handler):
    """Keeps every record that reaches the root logger, unredacted, with the test that was running."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # malformed format arguments: keep the raw message
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + record.stack_info
        REGISTRY.capture(_Record(record.name, record.levelname, REGISTRY.current_test,
                                 f"{record.name}: {text} {vars(record)!r}"))


_HANDLER = _Capture(level=logging.DEBUG)


@pytest.fixture
def leak_registry() -> LeakRegistry:
    """The session's leak registry: ``leak_registry.secret(...)``, ``.dump(...)``, ``.file(...)``."""
    return REGISTRY


def pytest_sessionstart(session: pytest.Session) -> None:
    """Capture log records from the very start of the session."""
    logging.getLogger().addHandler(_HANDLER)


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """Attribute what follows (secrets, records, dumps) to this test, fixtures included."""
    REGISTRY.current_test = nodeid


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """Back between tests (module/session fixture teardown happens inside the last test's teardown)."""
    REGISTRY.current_test = BETWEEN_TESTS


_FROM_WORKERS: list[dict[str, Any]] = []  # under pytest-xdist: each worker's findings, gathered by the controller


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """Under pytest-xdist (controller side): keep what a finished worker's leak check found."""
    found = getattr(node, "workeroutput", {}).get("leakcheck")
    if found:
        _FROM_WORKERS.append(found)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Search for every registered secret; fail the session on a leak (under xdist: the controller's session)."""
    logging.getLogger().removeHandler(_HANDLER)
    found = {"problems": REGISTRY.findings(), "secrets": len(REGISTRY.secrets), "records": len(REGISTRY.records),
             "dumps": len(REGISTRY.dumps), "files": len(REGISTRY.files)}
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:  # an xdist worker: its controller reports (pytest_testnodedown)
        worker_output["leakcheck"] = found
        return
    for other in _FROM_WORKERS:
        found = {k: found[k] + other[k] for k in found}
    problems: list[str] = found["problems"]
    if not problems and not found["secrets"]:
        return
    searched = (f"{found['secrets']} secret(s) registered; {found['records']} log record(s), "
                f"{found['dumps']} database dump(s), {found['files']} file(s) searched")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")  # after the progress dots
    if not problems:
        if reporter is not None:
            reporter.write_sep("-", f"secret leak check: no leak ({searched})")
        return
    lines = [f"  {i}. {p}" for i, p in enumerate(problems, 1)]
    message = f"secret leak check FAILED: {len(problems)} problem(s) ({searched})"
    if reporter is not None:
        reporter.write_sep("=", message, red=True, bold=True)
        for line in lines:
            reporter.write_line(line)
    else:  # without a terminal (e.g. -p no:terminal)
        print(message, *lines, sep="\n")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
