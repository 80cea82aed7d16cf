"""Shared helpers of the dev-server kit: the demo data, ports, processes and a private PKI."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "directory"
DEMO_LDIF = DATA_DIR / "demo.ldif"


def demo_password(login: str) -> str:
    """The starting password of a demo person (as written in demo.ldif)."""
    return f"Demo-Start-{hashlib.sha256(login.encode()).hexdigest()[:6]}-2718"


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


def demo_people() -> list[dict[str, str | bool]]:
    """The employees of the demo LDIF (ou=people), flattened."""
    people: list[dict[str, str | bool]] = []
    for entry in read_ldif():
        dn = entry["dn"][0]
        if not dn.startswith("uid=") or ",ou=people," not in dn:
            continue
        person: dict[str, str | bool] = {k: v[0] for k, v in entry.items()}
        person["disabled"] = "pwdAccountLockedTime" in entry
        people.append(person)
    return people


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_in_use(port: int) -> bool:
    """True when a server listens there (TIME_WAIT leftovers of earlier runs do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; a non-zero exit raises CalledProcessError (with its output)."""
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
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3", "-subj",
         "/CN=Helpdesk test CA", "-keyout", str(ca_key), "-out", str(ca)])
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(csr)])
    run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
         "-CAcreateserial", "-days", "3", "-extfile", str(ext), "-out", str(crt)])
    key.chmod(0o600)
    return ca, crt, key


def wait_for_port(port: int, timeout: float = 15.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until something listens on 127.0.0.1:``port``; RuntimeError if ``proc`` exits or time runs out."""
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


def start_server(cmd: list[str], log_file: Path) -> subprocess.Popen[bytes]:
    """Start a server in its own process group, its output appended to ``log_file``."""
    with open(log_file, "ab") as log:
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_server(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a server started by :func:`start_server` (its whole process group): TERM, then KILL."""
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
