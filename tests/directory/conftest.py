"""Real directory servers for the account self-service tests.

* ``slapd`` (session): OpenLDAP on random 127.0.0.1 ports, TLS, ppolicy, least-privilege ACLs.
* ``samba`` (session): a Samba AD DC on 127.0.0.1:389/636 (root only; skipped with the reason).
* ``Stack``: settings + migrated database + Services + Engine + the HTTP app served by
  uvicorn on a random port (the reset page), for one directory.
* Every password, temporary password and reset-link token a test types or receives is
  registered with ``register_secret`` (tests/leakcheck.py); every stack's database is
  registered too (a dump, and the SQLite file). At the end of the session the leak check
  searches all of them and every log record (captured here at DEBUG) for the secrets.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ldap3
import pytest

from integrations.directory import testing
from tests.leakcheck import debug_logging, register_dump, register_file, register_secret
from tests.uvicorn_thread import ThreadedUvicorn


@pytest.fixture(scope="package", autouse=True)
def debug_logs_for_the_package() -> Iterator[None]:
    """Log at DEBUG while this folder's servers and stacks start and stop (the leak check reads it all)."""
    with debug_logging():
        yield


@pytest.fixture(autouse=True)
def debug_logs() -> Iterator[None]:
    """Log at DEBUG during each test too (a CLI test may have set the root level since)."""
    with debug_logging():
        yield


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.Slapd]:
    if shutil.which("slapd") is None or shutil.which("slapadd") is None:
        pytest.skip("slapd is not installed (apt-get install slapd ldap-utils)")
    server = testing.Slapd(tmp_path_factory.mktemp("slapd"))
    server.start()
    register_secret(testing.ROOT_PASSWORD, testing.BOT_PASSWORD)
    yield server
    server.stop()
    shutil.rmtree(SHARED_MODELS, ignore_errors=True)


@pytest.fixture(scope="session")
def samba(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.SambaDC]:
    reason = testing.samba_available()
    if reason:
        pytest.skip(f"Samba AD DC unavailable: {reason}")
    dc = testing.SambaDC(tmp_path_factory.mktemp("samba"))
    try:
        dc.start()
    except Exception as exc:  # provisioning failed: say why
        dc.stop()
        pytest.fail(f"Samba AD DC did not start: {exc}; log: {dc.log_file}")
    register_secret(testing.AD_ADMIN_PASSWORD, testing.AD_BOT_PASSWORD)
    yield dc
    dc.stop()


# ---------------------------------------------------------------------------- LDAP helpers
def tls_server(url: str, ca_file: Path | str) -> ldap3.Server:
    host, port = url.split("://")[1].split(":")
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(ca_file))
    return ldap3.Server(host, port=int(port), use_ssl=True, tls=tls, get_info=ldap3.NONE, connect_timeout=5)


def try_bind(url: str, ca_file: Path | str, dn: str, password: str) -> tuple[bool, str]:
    """Bind as a person, like a workstation would; returns (ok, server message)."""
    conn = ldap3.Connection(tls_server(url, ca_file), user=dn, password=password, receive_timeout=10)
    try:
        ok = conn.bind()
        return ok, str(conn.result.get("message", "")) + " " + str(conn.result.get("description", ""))
    finally:
        conn.unbind()


def lock_by_failed_binds(url: str, ca_file: Path | str, dn: str, attempts: int = 3) -> None:
    for _ in range(attempts):
        ok, _msg = try_bind(url, ca_file, dn, "Wrong-Password-000")
        assert not ok


def admin_read(url: str, ca_file: Path | str, admin_dn: str, admin_pw: str, dn: str,
               attrs: list[str]) -> dict[str, Any]:
    conn = ldap3.Connection(tls_server(url, ca_file), user=admin_dn, password=admin_pw, auto_bind=True)
    try:
        conn.search(dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=attrs)
        return dict(conn.response[0]["attributes"]) if conn.response else {}
    finally:
        conn.unbind()


# ---------------------------------------------------------------------------- the app stack
@dataclass
class Stack:
    """One bot wired to one directory, with its reset page served on loopback."""

    settings: Any
    services: Any
    engine: Any
    base_url: str

    def press(self, action_id: str, *, user: str, email: str | None, value: dict | None = None):
        from bot.messages import Action, Message

        return self.engine.handle(Message(text="", user_key=user, channel="slack", email=email,
                                          action=Action(action_id, value or {})))

    def say_intent(self, intent: str, text: str, *, user: str, email: str | None):
        """As if the employee typed ``text`` and the router understood ``intent`` (no encoder needed)."""
        return self.press("router.choose", user=user, email=email, value={"intent": intent, "text": text})

    def reset_link(self, login: str, user: str, *, email: str | None = None) -> str:
        """Ask for a reset link as ``user`` (e-mail ``<login>@example.com``); the token is registered."""
        email = email or f"{login}@example.com"
        self.press("account.reset_start", user=user, email=email)
        reply = self.press("account.reset_link", user=user, email=email)
        return link_url(reply)

    def watch_once(self) -> int:
        """One round of the lockout watch, as the worker runs it for this bot."""
        from integrations.directory import watch

        return watch.run_once(self.services.db, lambda: self.services.directory, self.settings.directory,
                              self.services.notices)

    def with_services(self, **collaborators: Any) -> Stack:
        """The same bot and database with some collaborators replaced (e.g. ``ticketing=``)."""
        from bot.engine import Engine
        from bot.services import Services

        services = Services(self.settings, db=self.services.db, **collaborators)
        return Stack(self.settings, services, Engine(services), self.base_url)

    def settings_with(self, port: int | None = None, **overrides: Any) -> Any:
        data = self.settings.directory.model_dump(mode="python")
        directory = {**data, **overrides}
        if directory.get("bind_password") is not None and hasattr(directory["bind_password"], "get_secret_value"):
            directory["bind_password"] = directory["bind_password"].get_secret_value()
        update: dict[str, Any] = {"directory": type(self.settings.directory)(**directory)}
        if port is not None:
            update["server"] = self.settings.server.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
        return self.settings.model_copy(update=update)

    def with_directory(self, **overrides: Any) -> Stack:
        """Another bot on the same database with different [directory] settings (no HTTP server)."""
        from bot.engine import Engine
        from bot.services import Services

        settings = self.settings_with(**overrides)
        services = Services(settings, db=self.services.db)
        return Stack(settings, services, Engine(services), self.base_url)

    @contextmanager
    def served_with(self, **overrides: Any) -> Iterator[Stack]:
        """Another bot on the same database, with its own reset page server."""
        port = testing.free_port()
        gen = serve_stack(self.settings_with(port=port, **overrides), self.services.db, port)
        stack = next(gen)
        try:
            yield stack
        finally:
            gen.close()


def link_url(reply: Any) -> str:
    """The reset link on a reply's button; its token is registered with the leak check."""
    urls = [b.url for b in reply.buttons if b.url]
    assert urls, reply
    register_secret(urls[0].rsplit("/", 1)[-1], kind="token")
    return urls[0]


def dump_database(url: str) -> str:
    """Every table's name and every row as text (what a leak check must search)."""
    from sqlalchemy import MetaData, create_engine, select

    from bot.storage.session import normalise_url

    engine = create_engine(normalise_url(url))
    meta = MetaData()
    meta.reflect(engine)
    parts = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            parts.append(f"table {table.name}:")
            for row in conn.execute(select(table)):
                parts.append(f"{table.name}: {tuple(row)!r}")
    engine.dispose()
    return "\n".join(parts)


# One models folder for every stack of this test process: the intent model (typed follow-ups are
# understood by the engine) and the encoder export are built at most once per run.
SHARED_MODELS = Path(tempfile.gettempdir()) / f"helpdesk-directory-models-{os.getpid()}"


def make_settings_for(tmp: Path, url: str, directory: dict, port: int, **sections: Any):
    from bot.config import load_settings

    values = {"database": {"url": url},
              "server": {"public_url": f"http://127.0.0.1:{port}"},
              "paths": {"data_dir": str(testing.DATA_DIR.parent), "models_dir": str(SHARED_MODELS),
                        "var_dir": str(tmp / "var")},
              "directory": {"uniform_reply_seconds": 0.05, **directory}}
    values.update(sections)
    empty = tmp / "helpdesk.toml"
    empty.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    return load_settings(empty, environ=env, **values)


def serve_stack(settings: Any, db: Any, port: int) -> Generator[Stack, None, None]:
    """Services + Engine on ``db``, with the reset page served by uvicorn on ``port``."""
    from fastapi import FastAPI

    from bot.engine import Engine
    from bot.services import Services
    from bot.web.reset import build_router

    services = Services(settings, db=db)
    app = FastAPI()  # only the reset page's router: the other capabilities' are not under test here
    app.include_router(build_router(services))
    server = ThreadedUvicorn(app, port)
    server.start()
    try:
        yield Stack(settings, services, Engine(services), f"http://127.0.0.1:{port}")
    finally:
        server.stop()


def build_stack(tmp: Path, directory: dict, url: str | None = None, **sections: Any) -> Iterator[Stack]:
    from bot.storage import migrate
    from bot.storage.session import Database, describe_url

    url = url or f"sqlite:///{tmp / 'helpdesk.db'}"
    port = testing.free_port()  # the app must know its public URL before it starts
    settings = make_settings_for(tmp, url, directory, port, **sections)
    db = Database(url)
    migrate.upgrade(db)
    try:
        yield from serve_stack(settings, db, port)
    finally:
        register_dump(dump_database(url), f"of {describe_url(url)}",
                      must_contain=("table directory_audit:", "table transcript:"))
        db.dispose()
        if url.startswith("sqlite:///"):
            register_file(url.removeprefix("sqlite:///"))


@pytest.fixture(scope="module")
def ldap_stack(slapd: testing.Slapd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from build_stack(tmp_path_factory.mktemp("ldapstack"), slapd.settings(max_resets_per_day=3))


@pytest.fixture(scope="module")
def ad_stack(samba: testing.SambaDC, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from build_stack(tmp_path_factory.mktemp("adstack"), samba.settings())


def handed_to_it(reply: Any) -> bool:
    """The employee can hand the request to IT: a ticket is offered (opened only when they accept)."""
    return any(b.action_id in ("account.ticket", "ticket.open") for b in reply.buttons)
