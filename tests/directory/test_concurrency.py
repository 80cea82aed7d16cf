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


def test_a_directory_that_stops_answering_does_not_hold_up_other_employees(slapd, ldap_stack):
    """SQLite: while one employee's unlock waits on a stalled directory, another's turn goes through.

    The unlock's directory call is held at the network (a proxy in front of the real slapd);
    meanwhile a second employee's turn must finish — it would wait for the database's write lock
    if the first turn had written anything before calling the directory.
    """
    import threading

    from tests.directory.conftest import lock_by_failed_binds
    from tests.directory.helpers import GatedProxy, add_person, dn

    assert ldap_stack.services.db.dialect == "sqlite"
    add_person(slapd, "stella", ["stella@example.com"])
    lock_by_failed_binds(slapd.url, slapd.ca_file, dn("stella"))
    host, port = slapd.url.split("://")[1].split(":")
    proxy = GatedProxy(host, int(port))
    try:
        stack = ldap_stack.with_directory(url=f"ldaps://127.0.0.1:{proxy.port}", timeout_seconds=60)
        user, email = "slack:USTELLA", "stella@example.com"
        before = proxy.connections
        assert "is locked" in stack.press("account.check", user=user, email=email).text
        per_lookup = proxy.connections - before
        # the confirmed unlock looks the account up again, then opens one connection for the change
        proxy.hold(proxy.connections + per_lookup + 1)
        unlocked: dict[str, object] = {}
        first = threading.Thread(target=lambda: unlocked.update(
            reply=stack.press("account.unlock", user=user, email=email)))
        first.start()
        assert proxy.held.wait(30), "the unlock should be waiting on the directory now"
        other: dict[str, object] = {}
        second = threading.Thread(target=lambda: other.update(
            reply=stack.press("account.cancel", user="slack:UNOTSTALLED", email="olivia@example.com")))
        second.start()
        second.join(15)
        finished_while_held = not second.is_alive()
        proxy.release()
        first.join(60)
        second.join(60)
    finally:
        proxy.close()
    assert finished_while_held, "the other employee's turn waited for the stalled directory"
    assert "left your account" in other["reply"].text  # type: ignore[attr-defined]
    assert "unlocked" in unlocked["reply"].text  # type: ignore[attr-defined]
