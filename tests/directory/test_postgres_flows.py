"""The reset-link, audit and rate-limit tables on PostgreSQL (when HELPDESK_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from integrations.directory import testing
from integrations.directory.models import DirectoryAudit
from tests.conftest import PG_URL, _pg_database
from tests.directory.conftest import build_stack, link_url, try_bind
from tests.directory.helpers import hammer, race_two_submits
from tests.leakcheck import register_secret

pytestmark = [pytest.mark.ldap]


@pytest.fixture(scope="module")
def pg_stack(slapd, tmp_path_factory):
    if not PG_URL:
        pytest.skip("HELPDESK_TEST_DATABASE_URL is not set: PostgreSQL variant not requested")
    for url in _pg_database(PG_URL):
        yield from build_stack(tmp_path_factory.mktemp("pgstack"), slapd.settings(max_unlocks_per_day=1), url=url)


def test_reset_and_limits_on_postgresql(slapd, pg_stack):
    new = "Granite-Willow-Echo-35"
    register_secret(new)
    pg_stack.press("account.reset_start", user="slack:UPGTRENT", email="trent@example.com")
    reply = pg_stack.press("account.reset_link", user="slack:UPGTRENT", email="trent@example.com")
    url = link_url(reply)
    with httpx.Client() as web:
        page = web.get(url)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert web.post(url, data={"csrf": csrf, "password": new, "confirm": new}).status_code == 200
    assert try_bind(slapd.url, slapd.ca_file, f"uid=trent,{testing.PEOPLE_BASE}", new)[0]
    with pg_stack.services.db.session() as s:
        results = [(r.action, r.result) for r in s.scalars(
            select(DirectoryAudit).where(DirectoryAudit.account == f"uid=trent,{testing.PEOPLE_BASE}"))]
    assert ("reset", "ok") in results and ("reset_link", "ok") in results


def test_rate_counters_are_atomic_on_postgresql(pg_stack):
    import datetime as dt

    from integrations.directory import audit

    db = pg_stack.services.db
    results = hammer(db, "test:pg-concurrent-under", limit=1000)
    with db.session() as s:
        assert audit.count(s, "test:pg-concurrent-under", dt.timedelta(days=1)) == 36 == sum(results)
    assert sum(hammer(db, "test:pg-concurrent-over", limit=20)) == 20


def test_two_concurrent_submits_change_the_password_once_on_postgresql(slapd, pg_stack):
    person = race_two_submits(slapd, pg_stack, "pgxavier", "slack:UPGXAVIER",
                              ("Quartz-Lagoon-Maple-84", "Ember-Summit-Otter-16"))
    with pg_stack.services.db.session() as s:
        results = [r.result for r in s.scalars(select(DirectoryAudit).where(
            DirectoryAudit.account == person, DirectoryAudit.action == "reset"))]
    assert results == ["ok"]
