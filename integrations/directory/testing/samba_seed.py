"""Seed a freshly provisioned (offline) Samba AD database with the demo people and the bot's rights.

Run by path with the *system* Python, which has Samba's bindings (``samba``, ``ldb``);
it imports nothing from this project::

    /usr/bin/python3 samba_seed.py <provisioned targetdir> <spec.json>

The spec (written by ``integrations.directory.testing.samba_dc``) holds the demo LDIF's
entries, the service account, the protected group and the rights delegated on
``OU=People``. What it does:

* OUs People, Admins, Service Accounts and Groups;
* a domain policy that locks an account after 3 bad passwords, until unlocked;
* each ``uid=`` entry of the LDIF as a user (``ou=people`` → People, else Admins), with
  its mail, names, department, title, location and manager; disabled when the LDIF says so;
* the protected group with its members, and the service account;
* on ``OU=People``, inherited to user objects: the "Reset Password" control access right and
  write access to ``lockoutTime`` and ``pwdLastSet`` for the service account — nothing more.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import ldb
from samba import param
from samba.auth import system_session
from samba.dcerpc import security
from samba.ndr import ndr_pack, ndr_unpack
from samba.samdb import SamDB

OUS = ("People", "Admins", "Service Accounts", "Groups")
DOMAIN_POLICY = {
    "lockoutThreshold": "3",
    "lockoutDuration": "-9223372036854775808",  # never unlocks by itself
    "lockOutObservationWindow": "-18000000000",
    "pwdHistoryLength": "5",
    "minPwdLength": "10",
    "minPwdAge": "0",
}


def first(entry: dict[str, list[str]], key: str, default: str = "") -> str:
    """The first value of ``key`` in an LDIF entry."""
    return entry.get(key, [default])[0]


def replace(db: Any, dn: str, values: dict[str, str]) -> None:
    """Set attributes of ``dn`` (replacing what is there)."""
    message = ldb.Message()
    message.dn = ldb.Dn(db, dn)
    for name, value in values.items():
        message[name] = ldb.MessageElement(value, ldb.FLAG_MOD_REPLACE, name)
    db.modify(message)


def add_people(db: Any, base: str, entries: list[dict[str, list[str]]], upn_suffix: str) -> dict[str, str]:
    """The LDIF's people as AD users; returns login → DN."""
    made: dict[str, str] = {}
    for entry in entries:
        dn = first(entry, "dn")
        if not dn.startswith("uid="):
            continue
        login = first(entry, "uid")
        ou = "People" if ",ou=people," in dn else "Admins"
        db.newuser(login, first(entry, "userPassword"), givenname=first(entry, "givenName"),
                   surname=first(entry, "sn"), mailaddress=first(entry, "mail"), userou=f"OU={ou}",
                   department=first(entry, "departmentNumber"), jobtitle=first(entry, "title"))
        found = db.search(base, expression=f"(sAMAccountName={login})", attrs=["dn"])
        made[login] = str(found[0].dn)
        replace(db, made[login], {"l": first(entry, "l"), "displayName": first(entry, "displayName"),
                                  "userPrincipalName": f"{login}@{upn_suffix}"})
        if "pwdAccountLockedTime" in entry:
            db.disable_account(f"(sAMAccountName={login})")
    for entry in entries:
        if first(entry, "dn").startswith("uid=") and "manager" in entry:
            manager = first(entry, "manager").split(",")[0].split("=")[1]
            replace(db, made[first(entry, "uid")], {"manager": made[manager]})
    return made


def delegate(db: Any, base: str, login: str, rights: dict[str, Any]) -> None:
    """Give ``login`` the spec's rights on user objects under OU=People (inherited ACEs)."""
    found = db.search(base, expression=f"(sAMAccountName={login})", attrs=["objectSid"])
    sid = str(ndr_unpack(security.dom_sid, found[0]["objectSid"][0]))
    user_class = rights["user_class"]
    aces = "".join(f"(OA;CIIO;CR;{right};{user_class};{sid})" for right in rights["control_access"])
    aces += "".join(f"(OA;CIIO;WP;{attr};{user_class};{sid})" for attr in rights["write_property"])
    people = f"OU=People,{base}"
    res = db.search(people, scope=ldb.SCOPE_BASE, attrs=["nTSecurityDescriptor"])
    desc = ndr_unpack(security.descriptor, res[0]["nTSecurityDescriptor"][0])
    domain_sid = security.dom_sid(db.get_domain_sid())
    sddl = desc.as_sddl(domain_sid)
    sddl = sddl[:sddl.index("(")] + aces + sddl[sddl.index("("):]
    new = security.descriptor.from_sddl(sddl, domain_sid)
    message = ldb.Message()
    message.dn = ldb.Dn(db, people)
    message["nTSecurityDescriptor"] = ldb.MessageElement(ndr_pack(new), ldb.FLAG_MOD_REPLACE,
                                                         "nTSecurityDescriptor")
    db.modify(message)


def main(target: Path, spec: dict[str, Any]) -> int:
    """Seed the offline database of the DC provisioned in ``target``; returns how many people were made."""
    lp = param.LoadParm()
    lp.load(str(target / "etc" / "smb.conf"))
    db = SamDB(url=str(target / "private" / "sam.ldb"), session_info=system_session(), lp=lp)
    base = str(db.domain_dn())
    for ou in OUS:
        db.create_ou(f"OU={ou},{base}")
    replace(db, base, DOMAIN_POLICY)
    made = add_people(db, base, spec["entries"], spec["upn_suffix"])
    group = spec["protected_group"]
    db.newgroup(group["name"], groupou="OU=Groups")
    db.add_remove_group_members(group["name"], group["members"], add_members_operation=True)
    bot = spec["service_account"]
    db.newuser(bot["login"], bot["password"], userou="OU=Service Accounts")
    delegate(db, base, bot["login"], spec["rights"])
    return len(made)


if __name__ == "__main__":
    count = main(Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text(encoding="utf-8")))
    print("seeded", count, "people")
