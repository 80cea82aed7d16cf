"""Runs last in this folder: no password used by the suite may be in any database or log line."""

from __future__ import annotations

import pytest

from tests.directory.conftest import DB_DUMPS, LOG_LINES, PASSWORDS


def test_no_password_in_databases_or_logs():
    if not DB_DUMPS:
        pytest.skip("no directory flow ran in this session (run the whole tests/directory folder)")
    everything = "\n".join(DB_DUMPS)
    assert "directory_audit" in everything and "transcript" in everything  # the dumps are real
    assert len(PASSWORDS) >= 5 and LOG_LINES
    leaked_db = sorted(p for p in PASSWORDS if p in everything)
    logs = "\n".join(LOG_LINES)
    leaked_logs = sorted(p for p in PASSWORDS if p in logs)
    assert not leaked_db, f"{len(leaked_db)} password(s) found in the database"
    assert not leaked_logs, f"{len(leaked_logs)} password(s) found in the logs"
