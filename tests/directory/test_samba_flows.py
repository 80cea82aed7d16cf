"""The same flows against a real Samba Active Directory domain controller.

Needs root and free AD ports on 127.0.0.1 (the ``samba`` fixture skips with the reason otherwise).
The bot binds as ``svc-helpdesk``, a plain user with only these rights delegated on OU=People:
Reset Password, write lockoutTime, write pwdLastSet (see integrations/directory/README.md).
"""

from __future__ import annotations

import re

import httpx
import ldap3
import pytest
from sqlalchemy import select

from bot.errors import NotPermittedError
from integrations.directory import testing
from integrations.directory.client import PasswordRejected
from integrations.directory.factory import build_directory
from integrations.directory.models import DirectoryAudit
from tests.directory.conftest import admin_read, handed_to_it, link_url, lock_by_failed_binds, tls_server, try_bind
from tests.leakcheck import register_secret

pytestmark = [pytest.mark.samba, pytest.mark.slow]
ADMIN = f"CN=Administrator,CN=Users,{testing.AD_BASE}"


def dn(login: str, ou: str = "People") -> str:
    return f"CN={login},OU={ou},{testing.AD_BASE}"


def ad_attrs(samba, login: str, ou: str = "People") -> dict:
    attrs = admin_read(samba.url, samba.ca_file, ADMIN, testing.AD_ADMIN_PASSWORD, dn(login, ou),
                       ["lockoutTime", "pwdLastSet", "userAccountControl", "msDS-User-Account-Control-Computed"])
    return {k: (v[0] if isinstance(v, list) and v else (0 if v == [] else v)) for k, v in attrs.items()}


def form_csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_service_account_is_not_a_domain_admin(samba):
    conn = ldap3.Connection(tls_server(samba.url, samba.ca_file), user=testing.AD_BOT_DN,
                            password=testing.AD_BOT_PASSWORD, auto_bind=True)
    conn.search(testing.AD_BOT_DN, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["memberOf", "adminCount"])
    attrs = conn.response[0]["attributes"]
    conn.unbind()
    assert not attrs.get("memberOf") and not attrs.get("adminCount")


def test_real_lockout_unlocked_through_the_bot(samba, ad_stack):
    password = testing.demo_password("alice")
    register_secret(password)
    lock_by_failed_binds(samba.url, samba.ca_file, dn("alice"), attempts=3)
    ok, message = try_bind(samba.url, samba.ca_file, dn("alice"), password)
    assert not ok and "775" in message, message  # data 775: account locked
    offer = ad_stack.say_intent("account_unlock", "locked out", user="slack:UADALICE", email="alice@example.com")
    assert "is locked" in offer.text and offer.private
    done = ad_stack.press("account.unlock", user="slack:UADALICE", email="alice@example.com")
    assert "unlocked" in done.text
    assert int(ad_attrs(samba, "alice")["lockoutTime"]) == 0
    assert try_bind(samba.url, samba.ca_file, dn("alice"), password)[0]


def test_reset_through_the_page_sets_unicodepwd(samba, ad_stack):
    new, weak = "Amber-Meadow-Pilot-71", "letmein2024"
    register_secret(new, weak, testing.demo_password("bob"))
    lock_by_failed_binds(samba.url, samba.ca_file, dn("bob"), attempts=3)
    ad_stack.press("account.reset_start", user="slack:UADBOB", email="bob@example.com")
    reply = ad_stack.press("account.reset_link", user="slack:UADBOB", email="bob@example.com")
    url = link_url(reply)
    with httpx.Client() as web:
        page = web.get(url)
        bad = web.post(url, data={"csrf": form_csrf(page.text), "password": weak, "confirm": weak})
        assert bad.status_code == 422
        ok = web.post(url, data={"csrf": form_csrf(bad.text), "password": new, "confirm": new})
        assert ok.status_code == 200 and "Password changed" in ok.text
        assert web.get(url).status_code == 410
    attrs = ad_attrs(samba, "bob")
    assert int(attrs["lockoutTime"]) == 0 and int(attrs["pwdLastSet"]) != 0
    assert try_bind(samba.url, samba.ca_file, dn("bob"), new)[0]


def test_temporary_password_sets_pwdlastset_zero(samba, ad_stack):
    stack = ad_stack.with_directory(reset_mode="temporary")
    stack.press("account.reset_start", user="slack:UADGRACE", email="grace@example.com")
    reply = stack.press("account.reset_temporary", user="slack:UADGRACE", email="grace@example.com")
    temp = re.search(r"Temporary password: `([^`]+)`", reply.text).group(1)
    register_secret(temp)
    assert int(ad_attrs(samba, "grace")["pwdLastSet"]) == 0
    ok, message = try_bind(samba.url, samba.ca_file, dn("grace"), temp)
    assert not ok and "773" in message, message  # data 773: must change password at next logon


@pytest.mark.parametrize("email,code", [
    ("carol@example.com", "protected"),      # member of CN=IT Admins
    ("sysadmin@example.com", "protected"),   # OU=Admins
    ("dave@example.com", "disabled"),        # userAccountControl ACCOUNTDISABLE
    ("nobody@example.com", "not_found"),
    ("team-mailbox@example.com", "not_found"),  # two accounts share it
    ("*)(sAMAccountName=*", "no_email"),
    ("x*)(|(mail=*)@example.com", "not_found"),
])
def test_refusals_on_ad(ad_stack, email, code):
    user = f"slack:UADREF{abs(hash(email)) % 10_000}"
    reply = ad_stack.press("account.unlock", user=user, email=email)
    assert reply.private and handed_to_it(reply)
    with ad_stack.services.db.session() as s:
        results = {r.result for r in s.scalars(select(DirectoryAudit).where(DirectoryAudit.actor == user))}
    assert results == {code}


def test_protected_ad_account_stays_locked(samba, ad_stack):
    register_secret(testing.demo_password("carol"))
    lock_by_failed_binds(samba.url, samba.ca_file, dn("carol"), attempts=3)
    reply = ad_stack.press("account.unlock", user="slack:UADCAROL", email="carol@example.com")
    assert handed_to_it(reply)
    assert int(ad_attrs(samba, "carol")["lockoutTime"]) > 0


def test_delegation_is_least_privilege(samba, ad_stack):
    """Outside OU=People the service account cannot reset or unlock, even if the bot's checks were bypassed."""
    directory = build_directory(ad_stack.settings.directory)
    admin = directory.read(dn("sysadmin", "Admins"))
    assert admin is not None
    register_secret("Forbidden-Reset-Attempt-55")
    with pytest.raises(NotPermittedError):
        directory.set_password(admin, "Forbidden-Reset-Attempt-55", must_change=False)
    with pytest.raises(NotPermittedError):
        directory.unlock(admin)
    frank = directory.read(dn("frank"))
    with pytest.raises(PasswordRejected):  # AD's own policy (minPwdLength 10) still applies
        directory.set_password(frank, "Ab1-short", must_change=False)
    register_secret("Ab1-short")


def test_person_details_from_ad(ad_stack):
    details = build_directory(ad_stack.settings.directory).person_details("alice@example.com")
    assert details["department"] == "Finance" and details["title"] == "Accountant"
    assert details["location"] == "Berlin" and details["manager"].startswith("Bob Martin")


def test_lockout_watcher_on_ad(samba, ad_stack):
    from bot.storage.models import Notification

    ad_stack.press("account.check", user="slack:UADHEIDI", email="heidi@example.com")
    lock_by_failed_binds(samba.url, samba.ca_file, dn("heidi"), attempts=3)
    stack = ad_stack.with_directory(watch_lockouts=True)
    assert stack.watch_once() >= 1
    with stack.services.db.session() as s:
        notes = s.scalars(select(Notification).where(Notification.user_key == "slack:UADHEIDI")).all()
    assert len(notes) == 1 and "heidi" in notes[0].reply["text"]
