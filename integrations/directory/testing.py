"""Throwaway real directory servers on 127.0.0.1, for the tests and `helpdesk dev directory`.

* ``make_pki`` — a private CA and a server certificate with SAN IP:127.0.0.1 (openssl).
* ``Slapd`` — OpenLDAP with a private slapd.conf, TLS, the ppolicy overlay and
  least-privilege ACLs for the bot's service account, seeded from data/directory/demo.ldif.
* ``SambaDC`` — a Samba Active Directory domain controller (root only; ports 389/636),
  provisioned once into a cache directory and copied for each run.

Nothing here is used by the bot at run time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "directory"
DEMO_LDIF = DATA_DIR / "demo.ldif"
BASE_DN = "dc=example,dc=com"
PEOPLE_BASE = f"ou=people,{BASE_DN}"
ROOT_DN = f"cn=admin,{BASE_DN}"
ROOT_PASSWORD = "Root-Demo-Secret-5150"
BOT_DN = f"cn=helpdesk-bot,ou=services,{BASE_DN}"
BOT_PASSWORD = "Bot-Service-Secret-7731"


def demo_password(login: str) -> str:
    """The starting password of a demo person (as written in demo.ldif)."""
    return f"Demo-Start-{hashlib.sha256(login.encode()).hexdigest()[:6]}-2718"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    """True when a server listens there (TIME_WAIT leftovers of earlier runs do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def make_pki(directory: Path, hostname: str = "localhost") -> tuple[Path, Path, Path]:
    """Create ca.pem, server.pem and server.key in ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca = directory / "ca.key", directory / "ca.pem"
    key, csr, crt = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "san.ext"
    ext.write_text(f"subjectAltName=IP:127.0.0.1,DNS:{hostname},DNS:localhost\n"
                   "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\n")
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3", "-subj",
          "/CN=Helpdesk test CA", "-keyout", str(ca_key), "-out", str(ca)])
    _run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
          "-keyout", str(key), "-out", str(csr)])
    _run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
          "-CAcreateserial", "-days", "3", "-extfile", str(ext), "-out", str(crt)])
    key.chmod(0o600)
    return ca, crt, key


def wait_for_port(port: int, timeout: float = 15.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


# ---------------------------------------------------------------------------
# OpenLDAP

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
    proc: subprocess.Popen | None = None
    ca_file: Path | None = None
    log_file: Path | None = None
    _conf: Path | None = field(default=None, repr=False)

    def __enter__(self) -> "Slapd":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @property
    def plain_url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def prepare(self) -> None:
        """Write the configuration and bulk-load the seed (once)."""
        if self._conf is not None:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ca_file, crt, key = make_pki(self.workdir / "pki")
        (self.workdir / "db").mkdir(exist_ok=True)
        self._conf = self.workdir / "slapd.conf"
        self._conf.write_text(SLAPD_CONF.format(
            dir=self.workdir, ca=self.ca_file, crt=crt, key=key, base=BASE_DN, root_dn=ROOT_DN,
            root_pw=ROOT_PASSWORD, bot_dn=BOT_DN))
        _run(["slaptest", "-u", "-f", str(self._conf)])
        _run(["slapadd", "-q", "-f", str(self._conf), "-l", str(self.ldif)])

    def start(self) -> None:
        self.prepare()
        if not self.port:
            self.port, self.tls_port = free_port(), free_port()
        self.log_file = self.workdir / "slapd.log"
        log = open(self.log_file, "ab")
        self.proc = subprocess.Popen(
            ["slapd", "-d", "stats", "-f", str(self._conf),
             "-h", f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        wait_for_port(self.tls_port, proc=self.proc)
        wait_for_port(self.port, proc=self.proc)

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def settings(self, **overrides: object) -> dict:
        """The [directory] settings section that reaches this server as the bot."""
        values: dict = {
            "kind": "openldap", "url": self.url, "ca_file": str(self.ca_file),
            "bind_dn": BOT_DN, "bind_password": BOT_PASSWORD, "base_dn": BASE_DN,
            "people_base": PEOPLE_BASE, "protected_groups": [f"cn=it-admins,ou=groups,{BASE_DN}"],
            "protected_bases": [f"ou=admins,{BASE_DN}", f"ou=services,{BASE_DN}"],
        }
        values.update(overrides)
        return values


# ---------------------------------------------------------------------------
# Samba Active Directory

AD_REALM = "HELPDESK.TEST"
AD_DOMAIN = "HELPDESK"
AD_BASE = "DC=helpdesk,DC=test"
AD_PEOPLE = f"OU=People,{AD_BASE}"
AD_ADMIN_PASSWORD = "Adm1n-Samba-Secret-9090"
AD_BOT_LOGIN = "svc-helpdesk"
AD_BOT_DN = f"CN=svc-helpdesk,OU=Service Accounts,{AD_BASE}"
AD_BOT_PASSWORD = "Svc-Account-Secret-4242"
AD_PROTECTED_GROUP = f"CN=IT Admins,OU=Groups,{AD_BASE}"
# Control access right "Reset Password", and the property sets we write, on user objects.
RESET_PASSWORD_RIGHT = "00299570-246d-11d0-a768-00aa006e0529"
LOCKOUT_TIME_ATTR = "28630ebf-41d5-11d1-a9c1-0000f80367c1"
PWD_LAST_SET_ATTR = "bf967a0a-0de6-11d0-a285-00aa003049e2"
USER_CLASS = "bf967aba-0de6-11d0-a285-00aa003049e2"
SAMBA_SEED_VERSION = "3"
SYSTEM_PYTHON = "/usr/bin/python3"  # Samba's Python bindings live in the system interpreter


def read_ldif(path: Path = DEMO_LDIF) -> list[dict[str, list[str]]]:
    """A tiny LDIF reader for the demo file (no base64, no continuation lines)."""
    entries: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if current:
                entries.append(current)
                current = {}
            continue
        key, _, value = line.partition(": ")
        current.setdefault(key, []).append(value)
    return entries


def demo_people() -> list[dict[str, str]]:
    """The employees of the demo LDIF (ou=people), flattened."""
    people = []
    for entry in read_ldif():
        dn = entry["dn"][0]
        if not dn.startswith("uid=") or ",ou=people," not in dn:
            continue
        people.append({k: v[0] for k, v in entry.items()} | {
            "disabled": "pwdAccountLockedTime" in entry})
    return people


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


def _samba_conf_options() -> list[str]:
    return ["--option=interfaces = 127.0.0.1", "--option=bind interfaces only = yes",
            "--option=vfs objects = dfs_samba4 acl_xattr xattr_tdb",
            "--option=server services = ldap", "--option=dcerpc endpoint servers = ",
            "--option=ldap server require strong auth = yes"]


def _samba_template(cache_root: Path) -> Path:
    """A provisioned, seeded Samba DC, built once and reused across test runs."""
    digest = hashlib.sha256((SAMBA_SEED_VERSION + DEMO_LDIF.read_text()).encode()).hexdigest()[:12]
    template = cache_root / f"samba-{digest}"
    if (template / "READY").exists():
        return template
    shutil.rmtree(template, ignore_errors=True)
    building = cache_root / f"samba-{digest}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    _run(["samba-tool", "domain", "provision", f"--realm={AD_REALM}", f"--domain={AD_DOMAIN}",
          "--server-role=dc", "--dns-backend=NONE", "--use-rfc2307",
          f"--adminpass={AD_ADMIN_PASSWORD}", f"--targetdir={building}", *_samba_conf_options()])
    (building / "seed.py").write_text(_SEED_SCRIPT)
    # The seed runs with the system Python (Samba's bindings), on the offline database.
    _run([SYSTEM_PYTHON, str(building / "seed.py"), str(building), str(DEMO_LDIF)], timeout=300)
    (building / "READY").write_text("ok\n")
    (building / "ORIGIN").write_text(str(building))
    building.rename(template)
    return template


_SEED_SCRIPT = r'''
import sys
from pathlib import Path
from samba import param, credentials
from samba.auth import system_session
from samba.samdb import SamDB
from samba.ndr import ndr_unpack, ndr_pack
from samba.dcerpc import security
import ldb

target, ldif = Path(sys.argv[1]), Path(sys.argv[2])
lp = param.LoadParm(); lp.load(str(target / "etc" / "smb.conf"))
db = SamDB(url=str(target / "private" / "sam.ldb"), session_info=system_session(), lp=lp)
base = str(db.domain_dn())
for ou in ("People", "Admins", "Service Accounts", "Groups"):
    db.create_ou(f"OU={ou},{base}")
# lockout after 3 bad passwords, never unlocks by itself (until an administrator or the bot does)
m = ldb.Message(); m.dn = ldb.Dn(db, base)
m["lockoutThreshold"] = ldb.MessageElement("3", ldb.FLAG_MOD_REPLACE, "lockoutThreshold")
m["lockoutDuration"] = ldb.MessageElement("-9223372036854775808", ldb.FLAG_MOD_REPLACE, "lockoutDuration")
m["lockOutObservationWindow"] = ldb.MessageElement("-18000000000", ldb.FLAG_MOD_REPLACE, "lockOutObservationWindow")
m["pwdHistoryLength"] = ldb.MessageElement("5", ldb.FLAG_MOD_REPLACE, "pwdHistoryLength")
m["minPwdLength"] = ldb.MessageElement("10", ldb.FLAG_MOD_REPLACE, "minPwdLength")
m["minPwdAge"] = ldb.MessageElement("0", ldb.FLAG_MOD_REPLACE, "minPwdAge")
db.modify(m)

entries, cur = [], {}
for line in ldif.read_text().splitlines() + [""]:
    if line.startswith("#"): continue
    if not line.strip():
        if cur: entries.append(cur); cur = {}
        continue
    k, _, v = line.partition(": "); cur.setdefault(k, []).append(v)

def first(e, k, d=""): return e.get(k, [d])[0]
made = {}
for e in entries:
    dn = first(e, "dn")
    if not dn.startswith("uid="): continue
    login = first(e, "uid")
    ou = "People" if ",ou=people," in dn else "Admins"
    pw = first(e, "userPassword")
    db.newuser(login, pw, givenname=first(e, "givenName"), surname=first(e, "sn"),
               mailaddress=first(e, "mail"), userou=f"OU={ou}", department=first(e, "departmentNumber"),
               jobtitle=first(e, "title"))
    res = db.search(base, expression=f"(sAMAccountName={login})", attrs=["dn"])
    udn = str(res[0].dn); made[login] = udn
    m = ldb.Message(); m.dn = ldb.Dn(db, udn)
    m["l"] = ldb.MessageElement(first(e, "l"), ldb.FLAG_MOD_REPLACE, "l")
    m["displayName"] = ldb.MessageElement(first(e, "displayName"), ldb.FLAG_MOD_REPLACE, "displayName")
    m["userPrincipalName"] = ldb.MessageElement(f"{login}@helpdesk.test", ldb.FLAG_MOD_REPLACE, "userPrincipalName")
    db.modify(m)
    if "pwdAccountLockedTime" in e:
        db.disable_account(f"(sAMAccountName={login})")
for e in entries:
    dn = first(e, "dn")
    if dn.startswith("uid=") and "manager" in e:
        mgr = first(e, "manager").split(",")[0].split("=")[1]
        m = ldb.Message(); m.dn = ldb.Dn(db, made[first(e, "uid")])
        m["manager"] = ldb.MessageElement(made[mgr], ldb.FLAG_MOD_REPLACE, "manager")
        db.modify(m)

db.newgroup("IT Admins", groupou="OU=Groups")
db.add_remove_group_members("IT Admins", ["carol", "sysadmin"], add_members_operation=True)
db.newuser("svc-helpdesk", "Svc-Account-Secret-4242", userou="OU=Service Accounts")
sid = str(ndr_unpack(security.dom_sid, db.search(base, expression="(sAMAccountName=svc-helpdesk)",
                                                  attrs=["objectSid"])[0]["objectSid"][0]))
people = f"OU=People,{base}"
aces = ("(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;%(s)s)"
        "(OA;CIIO;WP;28630ebf-41d5-11d1-a9c1-0000f80367c1;bf967aba-0de6-11d0-a285-00aa003049e2;%(s)s)"
        "(OA;CIIO;WP;bf967a0a-0de6-11d0-a285-00aa003049e2;bf967aba-0de6-11d0-a285-00aa003049e2;%(s)s)") % {"s": sid}
res = db.search(people, scope=ldb.SCOPE_BASE, attrs=["nTSecurityDescriptor"])
desc = ndr_unpack(security.descriptor, res[0]["nTSecurityDescriptor"][0])
domain_sid = security.dom_sid(db.get_domain_sid())
sddl = desc.as_sddl(domain_sid)
sddl = sddl[:sddl.index("(")] + aces + sddl[sddl.index("("):]
new = security.descriptor.from_sddl(sddl, domain_sid)
m = ldb.Message(); m.dn = ldb.Dn(db, people)
m["nTSecurityDescriptor"] = ldb.MessageElement(ndr_pack(new), ldb.FLAG_MOD_REPLACE, "nTSecurityDescriptor")
db.modify(m)
print("seeded", len(made), "people")
'''


@dataclass
class SambaDC:
    """A Samba AD DC on 127.0.0.1:389/636, copied from a cached provisioned template."""

    workdir: Path
    cache_root: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "helpdesk-test-cache")
    proc: subprocess.Popen | None = None
    ca_file: Path | None = None
    log_file: Path | None = None
    target: Path | None = None

    url = "ldaps://127.0.0.1:636"

    def start(self) -> None:
        reason = samba_available()
        if reason:
            raise RuntimeError(reason)
        template = _samba_template(self.cache_root)
        self.target = self.workdir / "dc"
        shutil.copytree(template, self.target, symlinks=True)
        self._rewrite_paths((template / "ORIGIN").read_text().strip())
        self.ca_file, crt, key = make_pki(self.workdir / "pki", hostname="dc.helpdesk.test")
        conf = self.target / "etc" / "smb.conf"
        text = conf.read_text()
        text = text.replace("[global]", "[global]\n\ttls enabled = yes\n\ttls keyfile = "
                            f"{key}\n\ttls certfile = {crt}\n\ttls cafile = {self.ca_file}\n", 1)
        conf.write_text(text)
        self.log_file = self.workdir / "samba.log"
        log = open(self.log_file, "ab")
        self.proc = subprocess.Popen(["samba", "-i", "-M", "single", "-s", str(conf)],
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        wait_for_port(636, timeout=60, proc=self.proc)

    def _rewrite_paths(self, origin: str) -> None:
        conf = self.target / "etc" / "smb.conf"  # type: ignore[operator]
        conf.write_text(conf.read_text().replace(origin, str(self.target)))

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def settings(self, **overrides: object) -> dict:
        values: dict = {
            "kind": "ad", "url": self.url, "ca_file": str(self.ca_file),
            "bind_dn": AD_BOT_DN, "bind_password": AD_BOT_PASSWORD, "base_dn": AD_BASE,
            "people_base": AD_PEOPLE, "protected_groups": [AD_PROTECTED_GROUP],
            "protected_bases": [f"OU=Admins,{AD_BASE}", f"OU=Service Accounts,{AD_BASE}"],
        }
        values.update(overrides)
        return values
