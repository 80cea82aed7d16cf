"""The session-level secret-leak check (tests/leakcheck.py) fails a run that leaks, on one core or several."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LEAKING = '''
import logging
from tests.leakcheck import register_secret


def test_types_a_password():
    register_secret("Correct-Horse-7781")
    logging.getLogger("bot.flows").warning("reset for ann with Correct-Horse-7781")


def test_something_else():
    assert True
'''


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(folder / "x.ini"),
                           "--rootdir", str(folder), *args, str(folder)],
                          capture_output=True, text=True, cwd=folder, env=env, timeout=300, check=False)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "two-xdist-workers"])
def test_a_logged_password_fails_the_run_naming_the_test(tmp_path: Path, workers: list[str]) -> None:
    (tmp_path / "x.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.leakcheck"]\n')
    (tmp_path / "test_leaky.py").write_text(LEAKING)
    leaky = _run(tmp_path, *workers)
    assert leaky.returncode == 1, leaky.stdout + leaky.stderr
    assert "2 passed" in leaky.stdout and "secret leak check FAILED: 1 problem(s)" in leaky.stdout
    assert "test_leaky.py::test_types_a_password" in leaky.stdout
    assert "Correct-Horse-7781" not in leaky.stdout  # the report names the secret, never shows it
    (tmp_path / "test_leaky.py").write_text(LEAKING.replace('.warning("reset for ann with Correct-Horse-7781")',
                                                            '.warning("reset for ann")'))
    clean = _run(tmp_path, *workers)
    assert clean.returncode == 0 and "secret leak check: no leak (1 secret(s) registered" in clean.stdout, clean.stdout
