"""A Samba Active Directory domain controller on 127.0.0.1:389/636 (root only), for the AD tests.

The domain is provisioned and seeded once into a cache directory (``samba_seed.py``,
run with the system Python that has Samba's bindings) and copied for each run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from integrations.directory.testing.common import (
    DEMO_LDIF,
    make_pki,
    port_in_use,
    read_ldif,
    run,
    start_server,
    stop_server,
    wait_for_port,
)

AD_REALM = "HELPDESK.TEST"
AD_DOMAIN = "HELPDESK"
AD_BASE = "DC=helpdesk,DC=test"
AD_PEOPLE = f"OU=People,{AD_BASE}"
AD_ADMIN_PASSWORD = "Adm1n-Samba-Secret-9090"
AD_BOT_LOGIN = "svc-helpdesk"
AD_BOT_DN = f"CN=svc-helpdesk,OU=Service Accounts,{AD_BASE}"
AD_BOT_PASSWORD = "Svc-Account-Secret-4242"
AD_PROTECTED_GROUP_NAME = "IT Admins"
AD_PROTECTED_GROUP = f"CN={AD_PROTECTED_GROUP_NAME},OU=Groups,{AD_BASE}"
AD_PROTECTED_MEMBERS = ("carol", "sysadmin")
# Control access right "Reset Password", and the property sets we write, on user objects.
RESET_PASSWORD_RIGHT = "00299570-246d-11d0-a768-00aa006e0529"
LOCKOUT_TIME_ATTR = "28630ebf-41d5-11d1-a9c1-0000f80367c1"
PWD_LAST_SET_ATTR = "bf967a0a-0de6-11d0-a285-00aa003049e2"
USER_CLASS = "bf967aba-0de6-11d0-a285-00aa003049e2"
SAMBA_SEED_VERSION = "3"
SYSTEM_PYTHON = "/usr/bin/python3"  # Samba's Python bindings live in the system interpreter
SEED_SCRIPT = Path(__file__).with_name("samba_seed.py")


def samba_available() -> str | None:
    """None when a Samba DC can start here, else the reason why not."""
    if shutil.which("samba") is None or shutil.which("samba-tool") is None:
        return "samba-ad-dc is not installed (apt-get install samba-ad-dc)"
    if os.geteuid() != 0:
        return "a Samba AD DC needs root (it binds the fixed AD ports 389/636)"
    busy = [p for p in (389, 636, 3268, 3269) if port_in_use(p)]
    if busy:
        return f"ports {busy} on 127.0.0.1 are busy (another LDAP server or domain controller runs)"
    return None


def seed_spec() -> dict[str, Any]:
    """What ``samba_seed.py`` creates: the demo people, the protected group, the bot and its rights."""
    return {
        "entries": read_ldif(DEMO_LDIF),
        "upn_suffix": AD_REALM.lower(),
        "protected_group": {"name": AD_PROTECTED_GROUP_NAME, "members": list(AD_PROTECTED_MEMBERS)},
        "service_account": {"login": AD_BOT_LOGIN, "password": AD_BOT_PASSWORD},
        "rights": {"user_class": USER_CLASS, "control_access": [RESET_PASSWORD_RIGHT],
                   "write_property": [LOCKOUT_TIME_ATTR, PWD_LAST_SET_ATTR]},
    }


def _samba_conf_options() -> list[str]:
    return ["--option=interfaces = 127.0.0.1", "--option=bind interfaces only = yes",
            "--option=vfs objects = dfs_samba4 acl_xattr xattr_tdb",
            "--option=server services = ldap", "--option=dcerpc endpoint servers = ",
            "--option=ldap server require strong auth = yes"]


def samba_template(cache_root: Path) -> Path:
    """A provisioned, seeded Samba DC, built once (per seed) and reused across test runs."""
    spec = json.dumps(seed_spec(), sort_keys=True)
    digest = hashlib.sha256((SAMBA_SEED_VERSION + spec + SEED_SCRIPT.read_text()).encode()).hexdigest()[:12]
    template = cache_root / f"samba-{digest}"
    if (template / "READY").exists():
        return template
    shutil.rmtree(template, ignore_errors=True)
    building = cache_root / f"samba-{digest}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    run(["samba-tool", "domain", "provision", f"--realm={AD_REALM}", f"--domain={AD_DOMAIN}",
         "--server-role=dc", "--dns-backend=NONE", "--use-rfc2307",
         f"--adminpass={AD_ADMIN_PASSWORD}", f"--targetdir={building}", *_samba_conf_options()])
    spec_file = building / "seed.json"
    spec_file.write_text(spec)
    # The seed runs with the system Python (Samba's bindings), on the offline database.
    try:
        run([SYSTEM_PYTHON, str(SEED_SCRIPT), str(building), str(spec_file)], timeout=300)
    finally:
        spec_file.unlink()
    (building / "READY").write_text("ok\n")
    (building / "ORIGIN").write_text(str(building))
    building.rename(template)
    return template


@dataclass
class SambaDC:
    """A Samba AD DC on 127.0.0.1:389/636, copied from a cached provisioned template."""

    workdir: Path
    cache_root: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "helpdesk-test-cache")
    proc: subprocess.Popen[bytes] | None = None
    ca_file: Path | None = None
    log_file: Path | None = None
    target: Path | None = None

    url: ClassVar[str] = "ldaps://127.0.0.1:636"

    def start(self) -> None:
        """Copy the template, give it a fresh certificate, start samba and wait for LDAPS."""
        reason = samba_available()
        if reason:
            raise RuntimeError(reason)
        template = samba_template(self.cache_root)
        self.target = self.workdir / "dc"
        shutil.copytree(template, self.target, symlinks=True)
        conf = self.target / "etc" / "smb.conf"
        origin = (template / "ORIGIN").read_text().strip()
        conf.write_text(conf.read_text().replace(origin, str(self.target)))
        self.ca_file, crt, key = make_pki(self.workdir / "pki", hostname="dc.helpdesk.test")
        text = conf.read_text()
        text = text.replace("[global]", "[global]\n\ttls enabled = yes\n\ttls keyfile = "
                            f"{key}\n\ttls certfile = {crt}\n\ttls cafile = {self.ca_file}\n", 1)
        conf.write_text(text)
        self.log_file = self.workdir / "samba.log"
        self.proc = start_server(["samba", "-i", "-M", "single", "-s", str(conf)], self.log_file)
        wait_for_port(636, timeout=60, proc=self.proc)

    def stop(self) -> None:
        """Stop the DC."""
        stop_server(self.proc)
        self.proc = None

    def settings(self, **overrides: object) -> dict[str, Any]:
        """The [directory] settings section that reaches this DC as the bot's service account."""
        values: dict[str, Any] = {
            "kind": "ad", "url": self.url, "ca_file": str(self.ca_file),
            "bind_dn": AD_BOT_DN, "bind_password": AD_BOT_PASSWORD, "base_dn": AD_BASE,
            "people_base": AD_PEOPLE, "protected_groups": [AD_PROTECTED_GROUP],
            "protected_bases": [f"OU=Admins,{AD_BASE}", f"OU=Service Accounts,{AD_BASE}"],
        }
        values.update(overrides)
        return values
