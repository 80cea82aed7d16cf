"""Outbox log lines can be matched to tickets: the log redaction must not mask the reference."""

from __future__ import annotations

import logging

from bot.redact import MASK, redact
from integrations.ticketing.service import idem_ref
from tests.ticketing.conftest import deliver_outbox, press, tickets


def test_created_in_jira_log_line_names_the_ticket_and_a_short_reference(jira_services, fake_jira, caplog):
    s = jira_services
    press(s, "alice", "ticket.submit", {"summary": "VPN drops", "details": "error 812"})
    fake_jira.fail("500", times=1)
    with caplog.at_level(logging.INFO, logger="integrations.ticketing.worker"):
        deliver_outbox(s)
        from tests.ticketing.conftest import due_now

        due_now(s)
        deliver_outbox(s)
    [t] = tickets(s)
    ref = idem_ref(t.idem_key)
    assert len(ref) == len("helpdesk-") + 12 and t.idem_key.startswith(ref)
    # what reaches the log file: the message after the same redaction the log filter applies
    lines = [redact(r.getMessage()) for r in caplog.records if r.name == "integrations.ticketing.worker"]
    [created] = [line for line in lines if "created in Jira" in line]
    assert f"ticket {ref} created in Jira as {t.key}" in created and MASK not in created
    [retry] = [line for line in lines if "not delivered" in line]
    assert ref in retry and MASK not in retry
    assert t.idem_key not in " ".join(lines)  # the whole key stays out of the logs
