"""The session-level secret-leak check (tests/leakcheck.py), run on small throwaway test sessions."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_session(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``source`` as a test module in its own pytest session with only the leak-check plugin."""
    (tmp_path / "test_session.py").write_text(textwrap.dedent(source))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.leakcheck", "-p", "no:cacheprovider",
                           "-p", "no:randomly", str(tmp_path / "test_session.py"), *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


HEADER = """
    import logging
    import sqlite3
    from tests.leakcheck import register_dump, register_file, register_secret
"""


def test_a_secret_in_a_log_record_fails_the_session_whatever_the_order(tmp_path):
    # The secret is logged by the first test and registered only by the second one.
    result = run_session(tmp_path, HEADER + """
    def test_logs_it():
        logging.getLogger("bot.example").warning("set password to %s", "Leaky-Lantern-4821")

    def test_types_it():
        register_secret("Leaky-Lantern-4821")
    """)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert "secret leak check FAILED" in result.stdout
    assert "registered by test_session.py::test_types_it" in result.stdout
    assert "a log record of 'bot.example' (WARNING) emitted during test_session.py::test_logs_it" in result.stdout
    assert "Leaky-Lantern-4821" not in result.stdout, "the report does not print the secret"


def test_a_secret_in_a_registered_database_file_or_dump_fails_the_session(tmp_path):
    result = run_session(tmp_path, HEADER + f"""
    def test_stores_it():
        register_secret("Stored-Secret-7310", kind="token")
        db = sqlite3.connect({str(tmp_path / "leaky.db")!r})
        db.execute("create table t (v text)")
        db.execute("insert into t values ('Stored-Secret-7310')")
        db.commit()
        db.close()
        register_file({str(tmp_path / "leaky.db")!r})
        register_dump("table t:\\nt: ('Stored-Secret-7310',)", "of the example database")
    """)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"the file {tmp_path / 'leaky.db'} (registered by test_session.py::test_stores_it)" in result.stdout
    assert "the database dump of the example database (registered by test_session.py::test_stores_it)" \
        in result.stdout


def test_a_clean_session_passes_and_says_what_it_searched(tmp_path):
    result = run_session(tmp_path, HEADER + """
    def test_keeps_it_secret():
        register_secret("Quiet-Secret-5512")
        logging.getLogger("bot.example").warning("password changed for %s", "alice")
        register_dump("table directory_audit:\\ntable transcript:", "of a clean database",
                      must_contain=("table directory_audit:", "table transcript:"))
    """)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "secret leak check: no leak (1 secret(s) registered;" in result.stdout


def test_a_token_may_appear_only_in_the_test_clients_request_lines(tmp_path):
    result = run_session(tmp_path, HEADER + """
    def test_opens_the_link():
        register_secret("Token-abc123XYZ", kind="token")
        logging.getLogger("httpx").info("HTTP Request: GET http://127.0.0.1/reset/Token-abc123XYZ")

    def test_the_bot_logs_it():
        logging.getLogger("bot.web.reset").warning("bad link Token-abc123XYZ")
    """)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "'bot.web.reset' (WARNING)" in result.stdout and "'httpx'" not in result.stdout


def test_a_check_that_cannot_check_fails_the_session(tmp_path):
    result = run_session(tmp_path, HEADER + f"""
    def test_registers_what_is_not_there():
        register_secret("Some-Secret-9001")
        register_file({str(tmp_path / "missing.db")!r})
        register_dump("nothing here", "of a fake database", must_contain=("table transcript:",))
    """)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "missing.db (by test_session.py::test_registers_what_is_not_there) cannot be read" in result.stdout
    assert "does not look like a real dump: no table transcript:" in result.stdout
    assert "no log record was captured" in result.stdout
