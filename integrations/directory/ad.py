"""Active Directory (and Samba AD).

* locked: ``msDS-User-Account-Control-Computed`` bit 16 (UF_LOCKOUT)
* disabled: ``userAccountControl`` bit 2 (ACCOUNTDISABLE)
* protected: ``adminCount = 1``, ``isCriticalSystemObject``, or (nested) membership of a
  configured group (LDAP_MATCHING_RULE_IN_CHAIN)
* unlock: ``lockoutTime = 0`` (ldap3 ``extend.microsoft.unlock_account``)
* reset: ``unicodePwd`` replace over TLS (``extend.microsoft.modify_password``) — the
  delegated "Reset Password" right; then ``pwdLastSet = 0`` (must change at next
  logon) for a temporary password or ``-1`` (now) for a chosen one; then unlock.
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

UF_ACCOUNTDISABLE = 0x2
UF_LOCKOUT = 0x10
UF_PASSWORD_EXPIRED = 0x800000
IN_CHAIN = "1.2.840.113556.1.4.1941"


class ActiveDirectory(LdapDirectory):
    """Active Directory (or Samba AD): ``lockoutTime``, ``unicodePwd``, ``pwdLastSet`` over LDAPS."""

    kind = "ad"
    object_filter = "(&(objectCategory=person)(objectClass=user))"
    login_attr = "sAMAccountName"

    def email_filter(self, email: str) -> str:
        value = escape_filter_chars(email)
        return f"(&{self.object_filter}(mail={value}))"

    def read_attributes(self) -> list[str]:
        return ["sAMAccountName", "cn", "mail", "displayName", "givenName", "sn", "title", "department",
                "physicalDeliveryOfficeName", "l", "manager", "userAccountControl",
                "msDS-User-Account-Control-Computed", "lockoutTime", "pwdLastSet", "adminCount",
                "isCriticalSystemObject", "memberOf"]

    def to_account(self, conn: ldap3.Connection, dn: str, attrs: dict[str, Any]) -> Account:
        uac = _int(first(attrs.get("userAccountControl")))
        computed = _int(first(attrs.get("msDS-User-Account-Control-Computed")))
        lockout_time = _int(first(attrs.get("lockoutTime")))
        display = first(attrs.get("displayName")) or first(attrs.get("cn")) or ""
        critical = str(first(attrs.get("isCriticalSystemObject")) or "").upper() == "TRUE"
        return Account(
            dn=dn, login=first(attrs.get("sAMAccountName")) or "",
            email=(first(attrs.get("mail")) or "").lower(), display_name=display,
            emails=all_emails(attrs.get("mail")), locked_since=str(lockout_time) if lockout_time > 0 else "",
            given_name=first(attrs.get("givenName")) or "", surname=first(attrs.get("sn")) or "",
            locked=bool(computed & UF_LOCKOUT)
            or (lockout_time > 0 and "msDS-User-Account-Control-Computed" not in attrs),
            disabled=bool(uac & UF_ACCOUNTDISABLE),
            must_change=_int(first(attrs.get("pwdLastSet"))) == 0 or bool(computed & UF_PASSWORD_EXPIRED),
            groups=tuple(attrs.get("memberOf") or ()),
            admin_flag=_int(first(attrs.get("adminCount"))) == 1 or critical,
            details={
                "name": display, "email": first(attrs.get("mail")),
                "department": first(attrs.get("department")), "title": first(attrs.get("title")),
                "location": first(attrs.get("physicalDeliveryOfficeName")) or first(attrs.get("l")),
                "manager": self.manager_name(conn, first(attrs.get("manager"))),
            },
        )

    def is_member(self, account: Account, group_dn: str) -> bool:
        """Nested membership, resolved by the DC itself."""
        with self.connection() as conn:
            conn.search(account.dn, f"(memberOf:{IN_CHAIN}:={escape_filter_chars(group_dn)})",
                        search_scope=ldap3.BASE, attributes=["1.1"])
            return any(e.get("type") == "searchResEntry" for e in conn.response)

    def unlock(self, account: Account) -> None:
        with self.connection() as conn:
            conn.extend.microsoft.unlock_account(account.dn)

    def set_password(self, account: Account, new_password: str, *, must_change: bool) -> None:
        with self.connection() as conn:
            with translate_errors():
                conn.extend.microsoft.modify_password(account.dn, new_password)
            # From here on the password IS changed: a failure must say so (PasswordSetFlagFailed).
            with follow_up("setting 'must change at next logon'" if must_change else "clearing 'must change'"):
                self._set_pwd_last_set(conn, account, must_change)
            with follow_up("unlocking the account"):
                conn.extend.microsoft.unlock_account(account.dn)

    def _set_pwd_last_set(self, conn: ldap3.Connection, account: Account, must_change: bool) -> None:
        conn.modify(account.dn, {"pwdLastSet": [(ldap3.MODIFY_REPLACE, ["0" if must_change else "-1"])]})

    def locked_accounts(self) -> list[Account]:
        with self.connection() as conn:
            conn.search(self.people_base, f"(&{self.object_filter}(lockoutTime>=1))",
                        search_scope=ldap3.SUBTREE, attributes=["1.1"], size_limit=500)
            dns = [e["dn"] for e in conn.response if e.get("type") == "searchResEntry"]
        accounts = [self.read(dn) for dn in dns]
        return [a for a in accounts if a is not None and a.locked and not a.disabled]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
