"""Security review fixes, against the real OpenLDAP: concurrency, forged buttons, partial failures.

Each test adds its own person (as the directory administrator) so it does not depend on,
or disturb, the demo people the other modules use.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from contextlib import contextmanager

import httpx
import ldap3
import pytest
from sqlalchemy import delete, select

from bot.messages import Outcome
from bot.storage.models import Notification
from integrations.directory import audit, testing
from integrations.directory.models import DirectoryAudit, RateCounter, ResetLink
from tests.directory.conftest import (
    admin_read,
    handed_to_it,
    lock_by_failed_binds,
    remember,
    tls_server,
    try_bind,
)

pytestmark = pytest.mark.ldap
P = testing.PEOPLE_BASE
START = "Start-Granite-Plume-5821"


def dn(login: str) -> str:
    return f"uid={login},{P}"


def add_person(slapd, login: str, mails: list[str]) -> None:
    """A new employee in ou=people (the administrator adds it; ppolicy hashes the password)."""
    remember(START)
    conn = ldap3.Connection(tls_server(slapd.url, slapd.ca_file), user=testing.ROOT_DN,
                            password=testing.ROOT_PASSWORD, auto_bind=True)
    try:
        conn.delete(dn(login))
        conn.add(dn(login), ["inetOrgPerson"], {"uid": login, "cn": login.title(), "sn": "Test",
                                                "displayName": f"{login.title()} Test", "mail": mails,
                                                "userPassword": START})
        assert conn.result["result"] == 0, conn.result
    finally:
        conn.unbind()


@contextmanager
def policy(slapd, **values):
    """Change the default password policy for the duration of a test (as the administrator)."""
    policy_dn = f"cn=default,ou=policies,{testing.BASE_DN}"
    old = admin_read(slapd.url, slapd.ca_file, testing.ROOT_DN, testing.ROOT_PASSWORD, policy_dn, list(values))
    conn = ldap3.Connection(tls_server(slapd.url, slapd.ca_file), user=testing.ROOT_DN,
                            password=testing.ROOT_PASSWORD, auto_bind=True)
    try:
        conn.modify(policy_dn, {k: [(ldap3.MODIFY_REPLACE, [str(v)])] for k, v in values.items()})
        yield
    finally:
        conn.modify(policy_dn, {k: [(ldap3.MODIFY_REPLACE, [str(v) for v in old[k]])] for k in values})
        conn.unbind()


def audits(stack, **where):
    with stack.services.db.session() as s:
        stmt = select(DirectoryAudit).order_by(DirectoryAudit.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(DirectoryAudit, k) == v)
        return list(s.scalars(stmt))


def form_csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def link_for(stack, user: str, email: str) -> str:
    stack.press("account.reset_start", user=user, email=email)
    reply = stack.press("account.reset_link", user=user, email=email)
    return next(b.url for b in reply.buttons if b.url)


# ---------------------------------------------------------------------------- finding 4
def race_two_submits(slapd, stack, uid: str, user: str, passwords: tuple[str, str]) -> str:
    """Submit the same one-time form twice at once; check exactly one password took; return its DN."""
    add_person(slapd, uid, [f"{uid}@example.com"])
    first, second = passwords
    remember(first, second)
    url = link_for(stack, user, f"{uid}@example.com")
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
    person = dn(uid)
    assert try_bind(slapd.url, slapd.ca_file, person, winner)[0]
    assert not try_bind(slapd.url, slapd.ca_file, person, loser)[0]
    return person


def test_two_concurrent_submits_change_the_password_once(slapd, ldap_stack):
    person = race_two_submits(slapd, ldap_stack, "xavier", "slack:UXAVIER",
                              ("Copper-Lantern-Ridge-61", "Silver-Meadow-Falcon-27"))
    assert [r.result for r in audits(ldap_stack, account=person, action="reset")] == ["ok"]


# ---------------------------------------------------------------------------- finding 14
def _hammer(db, key: str, limit: int, threads: int = 6, each: int = 6) -> list[bool]:
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker() -> None:
        barrier.wait()
        for _ in range(each):
            with db.session() as s:
                won = audit.hit(s, key, limit, dt.timedelta(days=1))
            with lock:
                results.append(won)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def test_rate_counters_count_every_concurrent_hit_and_never_exceed_the_limit(ldap_stack):
    db = ldap_stack.services.db
    results = _hammer(db, "test:concurrent-under", limit=1000)
    with db.session() as s:
        assert audit.count(s, "test:concurrent-under", dt.timedelta(days=1)) == 36 == sum(results)
    results = _hammer(db, "test:concurrent-over", limit=20)
    assert sum(results) == 20, "exactly the limit may pass, however the requests interleave"
    with db.session() as s:
        assert audit.count(s, "test:concurrent-over", dt.timedelta(days=1)) == 20


# ---------------------------------------------------------------------------- finding 9
def test_button_of_the_other_reset_mode_has_expired(slapd, ldap_stack):
    add_person(slapd, "yara", ["yara@example.com"])
    old_temporary = ldap_stack.press("account.reset_temporary", user="slack:UYARA", email="yara@example.com")
    assert "expired" in old_temporary.text and "Temporary password" not in old_temporary.text
    assert try_bind(slapd.url, slapd.ca_file, dn("yara"), START)[0], "link mode: the password is untouched"
    temporary = ldap_stack.with_directory(reset_mode="temporary")
    old_link = temporary.press("account.reset_link", user="slack:UYARA", email="yara@example.com")
    assert "expired" in old_link.text and not any(b.url for b in old_link.buttons)
    with ldap_stack.services.db.session() as s:
        assert s.scalars(select(ResetLink).where(ResetLink.user_key == "slack:UYARA")).first() is None
    assert audits(ldap_stack, actor="slack:UYARA") == [], "nothing was even looked up"


# ---------------------------------------------------------------------------- finding 23
def test_account_with_several_mail_values_can_finish_a_reset(slapd, ldap_stack):
    add_person(slapd, "wendy", ["wendy.smith@example.com", "wendy@example.com"])
    new = "Amber-Orchard-Tide-73"
    remember(new)
    url = link_for(ldap_stack, "slack:UWENDY", "wendy@example.com")  # not the first mail value
    with httpx.Client() as web:
        page = web.get(url)
        done = web.post(url, data={"csrf": form_csrf(page.text), "password": new, "confirm": new})
    assert done.status_code == 200 and "Password changed" in done.text, done.text
    assert try_bind(slapd.url, slapd.ca_file, dn("wendy"), new)[0]


# ---------------------------------------------------------------------------- finding 15
def test_directory_refusing_a_temporary_password_means_a_ticket_and_keeps_the_audit(slapd, ldap_stack):
    add_person(slapd, "zane", ["zane@example.com"])
    stack = ldap_stack.with_directory(reset_mode="temporary")
    with policy(slapd, pwdMinLength=40):  # longer than any temporary password the bot makes
        reply = stack.press("account.reset_temporary", user="slack:UZANE", email="zane@example.com")
    assert reply.private and handed_to_it(reply), reply
    assert "choose another" not in reply.text and "Temporary password" not in reply.text
    assert not reply.sensitive
    assert try_bind(slapd.url, slapd.ca_file, dn("zane"), START)[0], "the password is unchanged"
    # The turn committed: the failure is audited and the attempt counted against the daily limit.
    assert [r.result for r in audits(stack, actor="slack:UZANE", action="temporary_password")] == ["error"]
    with stack.services.db.session() as s:
        assert audit.count(s, "reset:slack:UZANE", dt.timedelta(days=1)) == 1


# ---------------------------------------------------------------------------- finding 22
def test_temporary_password_whose_must_change_flag_fails_is_shown_and_reported(slapd, ldap_stack):
    # testing.Slapd's ACLs let the bot set uid=flagless's password but not its pwdReset flag.
    add_person(slapd, "flagless", ["flagless@example.com"])
    stack = ldap_stack.with_directory(reset_mode="temporary")
    reply = stack.press("account.reset_temporary", user="slack:UFLAGLESS", email="flagless@example.com")
    temp = re.search(r"Temporary password: `([^`]+)`", reply.text)
    assert temp, reply.text
    remember(temp.group(1))
    assert reply.private and reply.sensitive and handed_to_it(reply)
    assert "couldn't finish" in reply.text
    assert try_bind(slapd.url, slapd.ca_file, dn("flagless"), temp.group(1))[0], "the shown password is set"
    rows = audits(stack, actor="slack:UFLAGLESS", action="temporary_password")
    assert [r.result for r in rows] == ["partial"] and "password changed" in rows[0].detail


def test_chosen_password_whose_follow_up_fails_still_reports_the_change(slapd, ldap_stack):
    add_person(slapd, "flagless", ["flagless@example.com"])
    new = "Cobalt-Heron-Vista-19"
    remember(new)
    # Give the entry a must-change flag the bot is then not allowed to clear.
    conn = ldap3.Connection(tls_server(slapd.url, slapd.ca_file), user=testing.ROOT_DN,
                            password=testing.ROOT_PASSWORD, auto_bind=True)
    conn.modify(dn("flagless"), {"pwdReset": [(ldap3.MODIFY_REPLACE, ["TRUE"])]})
    conn.unbind()
    url = link_for(ldap_stack, "slack:UFLAGLESS2", "flagless@example.com")
    with httpx.Client() as web:
        page = web.get(url)
        done = web.post(url, data={"csrf": form_csrf(page.text), "password": new, "confirm": new})
        assert done.status_code == 200 and "one step did not finish" in done.text
        assert web.get(url).status_code == 410, "the password is set: the link is spent"
    assert try_bind(slapd.url, slapd.ca_file, dn("flagless"), new)[0]
    assert [r.result for r in audits(ldap_stack, actor="slack:UFLAGLESS2", action="reset")] == ["partial"]


# ---------------------------------------------------------------------------- finding 13
def test_two_replicas_seeing_one_lockout_send_one_dm(slapd, ldap_stack):
    from integrations.directory.watch import run_once

    add_person(slapd, "quinn", ["quinn@example.com"])
    ldap_stack.press("account.check", user="slack:UQUINN", email="quinn@example.com")
    lock_by_failed_binds(slapd.url, slapd.ca_file, dn("quinn"))
    replica_a = ldap_stack.with_directory(watch_lockouts=True, watch_interval_seconds=0)
    replica_b = ldap_stack.with_directory(watch_lockouts=True, watch_interval_seconds=0)
    assert run_once(replica_a.services) >= 1
    # Replica B checked "seen?" before A committed: it does not find A's marker either.
    with ldap_stack.services.db.session() as s:
        s.execute(delete(DirectoryAudit).where(DirectoryAudit.action == "lockout_seen"))
    assert run_once(replica_b.services) >= 1
    with ldap_stack.services.db.session() as s:
        notes = s.scalars(select(Notification).where(Notification.user_key == "slack:UQUINN")).all()
    assert len(notes) == 1, "one lockout, one DM, however many replicas notice it"


# ---------------------------------------------------------------------------- finding 21
def test_a_live_link_is_limited_on_its_own_not_by_a_shared_address(slapd, ldap_stack):
    add_person(slapd, "uma", ["uma@example.com"])
    with ldap_stack.served_with(reset_page_requests_per_hour=3) as stack:
        url = link_for(stack, "slack:UUMA", "uma@example.com")
        # Someone behind the same proxy address guesses tokens until the address is limited...
        for i in range(6):
            httpx.get(f"{stack.base_url}/reset/uma-guess-{i}")
        assert httpx.get(f"{stack.base_url}/reset/uma-guess-x").status_code == 429
        # ...which does not lock the employee out of their own link, which has its own limit.
        codes = [httpx.get(url).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    with ldap_stack.services.db.session() as s:
        keys = [k for k in s.scalars(select(RateCounter.key)) if k.startswith("reset_page_link:")]
    assert keys and not any("uma" in k for k in keys), "the bucket is keyed on the token's hash"


def test_replies_without_a_credential_are_not_sensitive(slapd, ldap_stack):
    add_person(slapd, "vera", ["vera@example.com"])
    offer = ldap_stack.press("account.reset_start", user="slack:UVERA", email="vera@example.com")
    assert offer.outcome is Outcome.ACCOUNT_ACTION and not offer.sensitive
    cancel = ldap_stack.press("account.cancel", user="slack:UVERA", email="vera@example.com")
    assert not cancel.sensitive
