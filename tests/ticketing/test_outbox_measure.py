"""A small version of bench/ticket_outbox.py: an outage loses nothing and duplicates nothing."""

from __future__ import annotations

import pytest

from tests.ticketing.conftest import jira_spec
from tests.ticketing.outage import measure


@pytest.mark.slow
@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_outage_loses_and_duplicates_nothing_while_naive_retry_duplicates(tmp_path, deployment):
    jira_spec()  # skips with a reason when ../shared is absent
    ours = measure(20, idempotent=True, deployment=deployment, lost=4, workdir=tmp_path)
    assert ours["contract_violations"] == 0
    assert ours["issues_in_jira"] == 20 and ours["tickets_with_key"] == 20
    assert ours["duplicates"] == 0 and ours["lost"] == 0
    naive = measure(20, idempotent=False, deployment=deployment, lost=4, workdir=tmp_path)
    assert naive["duplicates"] == 4  # the check is what prevents them
