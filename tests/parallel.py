"""Running the suite on several cores (pytest-xdist, as ``make test`` does): which tests must share a worker.

Most tests keep to their own tmp_path, database and free ports, so xdist hands them out one by one. A few
files cannot be split between workers, and each is kept whole in one worker (a "group"):

- the Samba AD tests: the domain controller binds the fixed AD ports, so only one may run on the machine;
- the production harness: its replicas read models prepared once in one folder under the system's temp
  directory, and two load runs at once would measure each other;
- the Slack fuzz module: its last test counts what the fuzzed tests before it reached, in its own process.

(pytest-xdist's ``xdist_group`` mark is not used: with pytest 9.2 ``--dist loadgroup`` silently stops grouping,
pytest-dev/pytest-xdist#1386.) A test file that starts using the ``samba`` or ``harness_models`` fixture without
being listed here fails collection with a message naming it, instead of failing or skipping at random.
"""

from __future__ import annotations

from typing import Any

import pytest

SHARED_FILES = {
    "tests/directory/test_samba_flows.py": "samba-ad",
    "tests/production/test_under_load.py": "production-harness",
    "tests/production/test_database_outage.py": "production-harness",
    "tests/slack/test_fuzz.py": "slack-fuzz",
}
# fixtures whose users must be listed above
SHARED_FIXTURES = {"samba": "the Samba AD domain controller", "harness_models": "the production harness's models"}


def group_of(nodeid: str) -> str | None:
    """The group a test id belongs to (None: it may run in any worker)."""
    return SHARED_FILES.get(nodeid.split("::", 1)[0])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a test that shares a fixed server or folder without being kept in one worker."""
    unlisted = sorted({f"{item.location[0]} uses {what}" for item in items for name, what in SHARED_FIXTURES.items()
                       if name in getattr(item, "fixturenames", ()) and group_of(item.nodeid) is None})
    if unlisted:
        raise pytest.UsageError("; ".join(unlisted) + ": add the file to SHARED_FILES in tests/parallel.py, so that "
                                "one pytest-xdist worker runs it")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's load scheduling, with each group of SHARED_FILES handed to one worker as one unit."""
    if config.getvalue("dist") != "load":
        return None  # --dist loadfile, each, …: as asked
    from xdist.scheduler import LoadScopeScheduling

    class Grouped(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid) or nodeid

    return Grouped(config, log)
