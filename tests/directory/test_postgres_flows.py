"""The reset-link, audit and rate-limit tables on PostgreSQL (when HELPDESK_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from integrations.directory import testing
from integrations.directory.models import DirectoryAudit
from tests.conftest import PG_URL, _pg_database
from tests.directory.conftest import build_stack, remember, try_bind

pytestmark = [pytest.mark.ldap]


@pytest.fixture(scope="module")
def pg_stack(slapd, tmp_path_factory):
    if not PG_URL:
        pytest.skip("HELPDESK_TEST_DATABASE_URL is not set: PostgreSQL variant not requested")
    for url in _pg_database(PG_URL):
        yield from build_stack(tmp_path_factory.mktemp("pgstack"), slapd.settings(max_unlocks_per_day=1), url=url)


def test_reset_and_limits_on_postgresql(slapd, pg_stack):
    new = "Granite-Willow-Echo-35"
    remember(new)
    pg_stack.press("account.reset_start", user="slack:UPGTRENT", email="trent@example.com")
    reply = pg_stack.press("account.reset_link", user="slack:UPGTRENT", email="trent@example.com")
    url = next(b.url for b in reply.buttons if b.url)
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
    from tests.directory.test_review_fixes import _hammer

    db = pg_stack.services.db
    results = _hammer(db, "test:pg-concurrent-under", limit=1000)
    with db.session() as s:
        assert audit.count(s, "test:pg-concurrent-under", dt.timedelta(days=1)) == 36 == sum(results)
    assert sum(_hammer(db, "test:pg-concurrent-over", limit=20)) == 20


def test_two_concurrent_submits_change_the_password_once_on_postgresql(slapd, pg_stack):
    import threading

    from tests.directory.test_review_fixes import add_person, form_csrf, link_for

    add_person(slapd, "pgxavier", ["pgxavier@example.com"])
    first, second = "Quartz-Lagoon-Maple-84", "Ember-Summit-Otter-16"
    remember(first, second)
    url = link_for(pg_stack, "slack:UPGXAVIER", "pgxavier@example.com")
    with httpx.Client() as web:
        csrf = form_csrf(web.get(url).text)
        cookies = dict(web.cookies)
    barrier = threading.Barrier(2)
    codes: dict[str, int] = {}

    def submit(password: str) -> None:
        with httpx.Client(cookies=cookies, timeout=30) as client:
            barrier.wait()
            codes[password] = client.post(url, data={"csrf": csrf, "password": password,
                                                     "confirm": password}).status_code

    threads = [threading.Thread(target=submit, args=(p,)) for p in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes.values()) in ([200, 409], [200, 410]), codes
    winner = next(p for p, code in codes.items() if code == 200)
    loser = second if winner == first else first
    person = f"uid=pgxavier,{testing.PEOPLE_BASE}"
    assert try_bind(slapd.url, slapd.ca_file, person, winner)[0]
    assert not try_bind(slapd.url, slapd.ca_file, person, loser)[0]
    with pg_stack.services.db.session() as s:
        results = [r.result for r in s.scalars(select(DirectoryAudit).where(
            DirectoryAudit.account == person, DirectoryAudit.action == "reset"))]
    assert results == ["ok"]
