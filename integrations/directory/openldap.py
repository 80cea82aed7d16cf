"""OpenLDAP with the ppolicy overlay.

* locked: ``pwdAccountLockedTime`` is present (any value but the administrative one)
* disabled: ``pwdAccountLockedTime = 000001010000Z`` (locked by an administrator, which
  only an administrator may undo) or the configured ``directory.disabled_filter``
* unlock: delete ``pwdAccountLockedTime`` (ppolicy then clears ``pwdFailureTime``)
* reset: RFC 3062 Password Modify as the service account (so ppolicy's checks apply),
  then ``pwdReset: TRUE`` for a temporary password, or no ``pwdReset`` for a chosen one
"""

from __future__ import annotations

from typing import Any

import ldap3
from ldap3.utils.conv import escape_filter_chars

from integrations.directory.client import (
    Account,
    LdapDirectory,
    all_emails,
    first,
    follow_up,
    translate_errors,
)

ADMIN_LOCK = "000001010000Z"


class OpenLdapDirectory(LdapDirectory):
    """OpenLDAP with the ppolicy overlay: ``pwdAccountLockedTime``, RFC 3062 Password Modify, ``pwdReset``."""

    kind = "openldap"
    object_filter = "(objectClass=inetOrgPerson)"
    login_attr = "uid"

    def read_attributes(self) -> list[str]:
        return ["uid", "cn", "mail", "displayName", "givenName", "sn", "title", "departmentNumber", "ou",
                "l", "manager", "pwdAccountLockedTime", "pwdReset"]

    def to_account(self, conn: ldap3.Connection, dn: str, attrs: dict[str, Any]) -> Account:
        locked_time = first(attrs.get("pwdAccountLockedTime"))
        locked_raw = str(locked_time) if locked_time else ""
        admin_locked = locked_raw.startswith("0000") or locked_raw.replace(" ", "").startswith("0000-01-01")
        disabled = admin_locked or self._matches_disabled_filter(conn, dn)
        manager_dn = first(attrs.get("manager"))
        given, surname = first(attrs.get("givenName")) or "", first(attrs.get("sn")) or ""
        display = first(attrs.get("displayName")) or first(attrs.get("cn")) or ""
        return Account(
            dn=dn, login=first(attrs.get("uid")) or "", email=(first(attrs.get("mail")) or "").lower(),
            emails=all_emails(attrs.get("mail")), locked_since=locked_raw if locked_time else "",
            display_name=display, given_name=given, surname=surname,
            locked=bool(locked_time) and not admin_locked, disabled=disabled,
            must_change=str(first(attrs.get("pwdReset")) or "").upper() == "TRUE",
            details={
                "name": display, "email": first(attrs.get("mail")),
                "department": first(attrs.get("departmentNumber")) or first(attrs.get("ou")),
                "title": first(attrs.get("title")), "location": first(attrs.get("l")),
                "manager": self.manager_name(conn, manager_dn),
            },
        )

    def _matches_disabled_filter(self, conn: ldap3.Connection, dn: str) -> bool:
        flt = self.settings.disabled_filter
        if not flt:
            return False
        conn.search(dn, flt, search_scope=ldap3.BASE, attributes=["1.1"])
        return any(e.get("type") == "searchResEntry" for e in conn.response)

    def is_member(self, account: Account, group_dn: str) -> bool:
        with self.connection() as conn:
            try:
                conn.search(group_dn, f"(member={escape_filter_chars(account.dn)})",
                            search_scope=ldap3.BASE, attributes=["1.1"])
            except ldap3.core.exceptions.LDAPNoSuchObjectResult:
                return False
            return any(e.get("type") == "searchResEntry" for e in conn.response)

    def unlock(self, account: Account) -> None:
        with self.connection() as conn:
            with translate_errors():
                try:
                    conn.modify(account.dn, {"pwdAccountLockedTime": [(ldap3.MODIFY_DELETE, [])]})
                except ldap3.core.exceptions.LDAPNoSuchAttributeResult:
                    pass  # not locked (any more)

    def set_password(self, account: Account, new_password: str, *, must_change: bool) -> None:
        with self.connection() as conn:
            with translate_errors():
                conn.extend.standard.modify_password(user=account.dn, new_password=new_password)
            # From here on the password IS changed: a failure must say so (PasswordSetFlagFailed).
            with follow_up("setting 'must change at next logon'" if must_change else "clearing 'must change'"):
                self._set_reset_flag(conn, account, must_change)
            with follow_up("unlocking the account"):
                try:
                    conn.modify(account.dn, {"pwdAccountLockedTime": [(ldap3.MODIFY_DELETE, [])]})
                except ldap3.core.exceptions.LDAPNoSuchAttributeResult:
                    pass

    def _set_reset_flag(self, conn: ldap3.Connection, account: Account, must_change: bool) -> None:
        changes: dict[str, Any] = {}
        if must_change:
            changes["pwdReset"] = [(ldap3.MODIFY_REPLACE, ["TRUE"])]
        else:
            changes["pwdReset"] = [(ldap3.MODIFY_DELETE, [])]
        try:
            conn.modify(account.dn, changes)
        except ldap3.core.exceptions.LDAPNoSuchAttributeResult:
            pass  # there was no pwdReset to clear

    def locked_accounts(self) -> list[Account]:
        with self.connection() as conn:
            conn.search(self.people_base, f"(&{self.object_filter}(pwdAccountLockedTime=*))",
                        search_scope=ldap3.SUBTREE, attributes=self.read_attributes(), size_limit=500)
            entries = [e for e in conn.response if e.get("type") == "searchResEntry"]
            accounts = [self.to_account(conn, e["dn"], e["attributes"]) for e in entries]
        return [a for a in accounts if a.locked and not a.disabled]
