"""Helpers shared by the OpenLDAP test modules: people added for one test, policy changes, races."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import ldap3
from sqlalchemy import select

from integrations.directory import audit, testing
from integrations.directory.models import DirectoryAudit
from tests.directory.conftest import admin_read, tls_server, try_bind
from tests.leakcheck import register_secret

P = testing.PEOPLE_BASE
START = "Start-Granite-Plume-5821"  # the starting password of every person add_person adds


def dn(login: str) -> str:
    """The DN of a person in ou=people."""
    return f"uid={login},{P}"


def add_person(slapd: Any, login: str, mails: list[str]) -> None:
    """A new employee in ou=people (the administrator adds it; ppolicy hashes the password).

    Tests that add their own person neither depend on nor disturb the demo people.
    """
    register_secret(START)
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
def policy(slapd: Any, **values: Any) -> Iterator[None]:
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


def audits(stack: Any, **where: Any) -> list[DirectoryAudit]:
    """The audit rows matching ``where`` (column=value), oldest first."""
    with stack.services.db.session() as s:
        stmt = select(DirectoryAudit).order_by(DirectoryAudit.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(DirectoryAudit, k) == v)
        return list(s.scalars(stmt))


def form_csrf(html: str) -> str:
    """The CSRF value of the reset form in ``html``."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def race_two_submits(slapd: Any, stack: Any, uid: str, user: str, passwords: tuple[str, str]) -> str:
    """Submit the same one-time form twice at once; check exactly one password took; return its DN."""
    add_person(slapd, uid, [f"{uid}@example.com"])
    first, second = passwords
    register_secret(first, second)
    url = stack.reset_link(uid, user)
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


def hammer(db: Any, key: str, limit: int, threads: int = 6, each: int = 6) -> list[bool]:
    """``threads`` threads each counting ``each`` hits on one rate-limit key at once; who got through."""
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


class GatedProxy:
    """A TCP proxy in front of the directory that can hold the answers on one chosen connection.

    ``hold(n)``: the directory's bytes on the n-th connection (counted from 1) are kept back
    until ``release()``; ``held`` is set once something is being kept back. A real network
    stall in front of the real server: the bot's client sees a directory that does not answer.
    """

    def __init__(self, host: str, port: int) -> None:
        import socket

        self.upstream = (host, port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.hold_at: int | None = None
        self.held = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self, connection: int) -> None:
        self.hold_at = connection
        self.held.clear()
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    def close(self) -> None:
        self.gate.set()
        self.server.close()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                number = self.connections
            upstream = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, number == self.hold_at),
                             daemon=True).start()

    def _pump(self, source: Any, target: Any, held: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if held and not self.gate.is_set():
                    self.held.set()
                    self.gate.wait()
                target.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, target):
                try:
                    s.close()
                except OSError:
                    pass
