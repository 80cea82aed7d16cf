"""A slice of bench/ticket_outbox.py: an outage with every fault kind loses nothing, duplicates nothing,
and every requester hears their ticket key."""

from __future__ import annotations

import logging

import pytest

from tests.ticketing.conftest import jira_spec
from tests.ticketing.outage import measure


@pytest.mark.slow
@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_outage_loses_and_duplicates_nothing_while_naive_retry_duplicates(tmp_path, deployment, caplog):
    jira_spec()  # skips with a reason when ../shared is absent
    caplog.set_level(logging.ERROR)
    ours = measure(30, idempotent=True, deployment=deployment, lost=4, workdir=tmp_path)
    assert ours["contract_violations"] == 0
    assert ours["faults_seen"]["http_500"] > 0 and ours["faults_seen"]["http_429"] > 0
    assert ours["faults_seen"]["no_answer"] >= 4  # lost answers and time-outs (refused ones never arrive)
    assert ours["issues_in_jira"] == 30 and ours["tickets_with_key"] == 30
    assert ours["duplicates"] == 0 and ours["lost"] == 0 and ours["outbox_failed"] == 0
    # every Slack requester heard their key, API requesters have it waiting, IT got one post per ticket
    assert ours["slack_requesters_heard_key"] == ours["slack_requesters"] == 24
    assert ours["api_requesters_key_queued"] == ours["api_requesters"] == 6
    assert ours["triage_posts"] == 30 and ours["notifications_pending_for_slack"] == 0
    naive = measure(30, idempotent=False, deployment=deployment, lost=4, workdir=tmp_path)
    assert naive["duplicates"] == 4  # the check is what prevents them
