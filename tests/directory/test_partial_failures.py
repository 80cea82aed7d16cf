"""The directory fails part-way through a change: the employee is told the truth and IT gets a ticket.

Each test adds its own person (as the directory administrator) so it does not depend on,
or disturb, the demo people the other modules use.
"""

from __future__ import annotations

import datetime as dt
import re

import httpx
import ldap3
import pytest

from integrations.directory import audit, testing
from tests.directory.conftest import handed_to_it, tls_server, try_bind
from tests.directory.helpers import START, add_person, audits, dn, form_csrf, policy
from tests.leakcheck import register_secret

pytestmark = pytest.mark.ldap


def test_directory_refusing_a_temporary_password_means_a_ticket_and_keeps_the_audit(slapd, ldap_stack):
    add_person(slapd, "zane", ["zane@example.com"])
    stack = ldap_stack.with_directory(reset_mode="temporary")
    stack.press("account.reset_start", user="slack:UZANE", email="zane@example.com")
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


def test_temporary_password_whose_must_change_flag_fails_is_shown_and_reported(slapd, ldap_stack):
    # testing.Slapd's ACLs let the bot set uid=flagless's password but not its pwdReset flag.
    add_person(slapd, "flagless", ["flagless@example.com"])
    stack = ldap_stack.with_directory(reset_mode="temporary")
    stack.press("account.reset_start", user="slack:UFLAGLESS", email="flagless@example.com")
    reply = stack.press("account.reset_temporary", user="slack:UFLAGLESS", email="flagless@example.com")
    temp = re.search(r"Temporary password: `([^`]+)`", reply.text)
    assert temp, reply.text
    register_secret(temp.group(1))
    assert reply.private and reply.sensitive and handed_to_it(reply)
    assert "couldn't finish" in reply.text
    assert try_bind(slapd.url, slapd.ca_file, dn("flagless"), temp.group(1))[0], "the shown password is set"
    rows = audits(stack, actor="slack:UFLAGLESS", action="temporary_password")
    assert [r.result for r in rows] == ["partial"] and "password changed" in rows[0].detail


def test_chosen_password_whose_follow_up_fails_still_reports_the_change(slapd, ldap_stack):
    add_person(slapd, "flagless", ["flagless@example.com"])
    new = "Cobalt-Heron-Vista-19"
    register_secret(new)
    # Give the entry a must-change flag the bot is then not allowed to clear.
    conn = ldap3.Connection(tls_server(slapd.url, slapd.ca_file), user=testing.ROOT_DN,
                            password=testing.ROOT_PASSWORD, auto_bind=True)
    conn.modify(dn("flagless"), {"pwdReset": [(ldap3.MODIFY_REPLACE, ["TRUE"])]})
    conn.unbind()
    url = ldap_stack.reset_link("flagless", "slack:UFLAGLESS2")
    with httpx.Client() as web:
        page = web.get(url)
        done = web.post(url, data={"csrf": form_csrf(page.text), "password": new, "confirm": new})
        assert done.status_code == 200 and "one step did not finish" in done.text
        assert web.get(url).status_code == 410, "the password is set: the link is spent"
    assert try_bind(slapd.url, slapd.ca_file, dn("flagless"), new)[0]
    assert [r.result for r in audits(ldap_stack, actor="slack:UFLAGLESS2", action="reset")] == ["partial"]
