"""A private OpenLDAP server (slapd) on 127.0.0.1: TLS, the ppolicy overlay, least-privilege ACLs.

Seeded from data/directory/demo.ldif; ``Slapd.settings()`` is the ``[directory]``
section that reaches it as the bot's service account.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integrations.directory.testing.common import (
    DEMO_LDIF,
    free_port,
    make_pki,
    run,
    start_server,
    stop_server,
    wait_for_port,
)

BASE_DN = "dc=example,dc=com"
PEOPLE_BASE = f"ou=people,{BASE_DN}"
ROOT_DN = f"cn=admin,{BASE_DN}"
ROOT_PASSWORD = "Root-Demo-Secret-5150"
BOT_DN = f"cn=helpdesk-bot,ou=services,{BASE_DN}"
BOT_PASSWORD = "Bot-Service-Secret-7731"

SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb.la
moduleload ppolicy.la
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
TLSCACertificateFile {ca}
TLSCertificateFile {crt}
TLSCertificateKeyFile {key}
sizelimit 500

database mdb
maxsize 67108864
suffix "{base}"
rootdn "{root_dn}"
rootpw {root_pw}
directory {dir}/db
index objectClass eq
index mail,uid eq
index member eq

overlay ppolicy
ppolicy_default "cn=default,ou=policies,{base}"
ppolicy_hash_cleartext
ppolicy_use_lockout

# --- least privilege for the helpdesk bot (see integrations/directory/README.md) ---
# Employees' password and lockout state: the bot may write, the person may change their own.
access to dn.subtree="ou=people,{base}" attrs=userPassword
    by dn.exact="{bot_dn}" write
    by self write
    by anonymous auth
    by * none
# A fault for the tests: the bot may set uid=flagless's password but not its pwdReset
# flag (a password change whose follow-up step fails; the entry is added by the test).
access to dn.exact="uid=flagless,ou=people,{base}" attrs=pwdReset
    by dn.exact="{bot_dn}" read
    by self read
    by * none
access to dn.subtree="ou=people,{base}" attrs=pwdReset,pwdAccountLockedTime
    by dn.exact="{bot_dn}" write
    by self read
    by * none
# Everyone else's password (admins, service accounts): authentication only.
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
# Read the rest (lookup by mail, group membership, person details); write nothing.
access to *
    by dn.exact="{bot_dn}" read
    by self read
    by * none
"""


@dataclass
class Slapd:
    """A private OpenLDAP server; ``start()`` then ``stop()`` (or use as a context manager)."""

    workdir: Path
    ldif: Path = DEMO_LDIF
    port: int = 0
    tls_port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    ca_file: Path | None = None
    log_file: Path | None = None
    _conf: Path | None = field(default=None, repr=False)

    def __enter__(self) -> Slapd:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The LDAPS URL (with TLS from the first byte)."""
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @property
    def plain_url(self) -> str:
        """The plain LDAP URL (for start_tls, or the insecure-mode tests)."""
        return f"ldap://127.0.0.1:{self.port}"

    def prepare(self) -> Path:
        """Write the configuration and bulk-load the seed (once); returns the slapd.conf path."""
        if self._conf is not None:
            return self._conf
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ca_file, crt, key = make_pki(self.workdir / "pki")
        (self.workdir / "db").mkdir(exist_ok=True)
        conf = self.workdir / "slapd.conf"
        conf.write_text(SLAPD_CONF.format(
            dir=self.workdir, ca=self.ca_file, crt=crt, key=key, base=BASE_DN, root_dn=ROOT_DN,
            root_pw=ROOT_PASSWORD, bot_dn=BOT_DN))
        run(["slaptest", "-u", "-f", str(conf)])
        run(["slapadd", "-q", "-f", str(conf), "-l", str(self.ldif)])
        self._conf = conf
        return conf

    def start(self) -> None:
        """Start slapd (preparing it first if needed) and wait until both ports listen."""
        conf = self.prepare()
        if not self.port:
            self.port, self.tls_port = free_port(), free_port()
        self.log_file = self.workdir / "slapd.log"
        self.proc = start_server(
            ["slapd", "-d", "stats", "-f", str(conf),
             "-h", f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/"], self.log_file)
        wait_for_port(self.tls_port, proc=self.proc)
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        """Stop slapd (its data stays: ``start()`` again serves the same directory)."""
        stop_server(self.proc)
        self.proc = None

    def settings(self, **overrides: object) -> dict[str, Any]:
        """The [directory] settings section that reaches this server as the bot."""
        values: dict[str, Any] = {
            "kind": "openldap", "url": self.url, "ca_file": str(self.ca_file),
            "bind_dn": BOT_DN, "bind_password": BOT_PASSWORD, "base_dn": BASE_DN,
            "people_base": PEOPLE_BASE, "protected_groups": [f"cn=it-admins,ou=groups,{BASE_DN}"],
            "protected_bases": [f"ou=admins,{BASE_DN}", f"ou=services,{BASE_DN}"],
        }
        values.update(overrides)
        return values
