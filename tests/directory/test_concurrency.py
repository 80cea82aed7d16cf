"""Concurrent requests against the real OpenLDAP: one form submitted twice at once, racing rate counters."""

from __future__ import annotations

import datetime as dt

import pytest

from integrations.directory import audit
from tests.directory.helpers import audits, hammer, race_two_submits

pytestmark = pytest.mark.ldap


def test_two_concurrent_submits_change_the_password_once(slapd, ldap_stack):
    person = race_two_submits(slapd, ldap_stack, "xavier", "slack:UXAVIER",
                              ("Copper-Lantern-Ridge-61", "Silver-Meadow-Falcon-27"))
    assert [r.result for r in audits(ldap_stack, account=person, action="reset")] == ["ok"]


def test_rate_counters_count_every_concurrent_hit_and_never_exceed_the_limit(ldap_stack):
    db = ldap_stack.services.db
    results = hammer(db, "test:concurrent-under", limit=1000)
    with db.session() as s:
        assert audit.count(s, "test:concurrent-under", dt.timedelta(days=1)) == 36 == sum(results)
    results = hammer(db, "test:concurrent-over", limit=20)
    assert sum(results) == 20, "exactly the limit may pass, however the requests interleave"
    with db.session() as s:
        assert audit.count(s, "test:concurrent-over", dt.timedelta(days=1)) == 20
