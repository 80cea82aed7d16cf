"""Fixtures for the console tests: a served bot, sign-in through a real login link, a real browser.

* ``console_stack`` (session): ``create_app(services)`` served by uvicorn on 127.0.0.1:<free port> over a
  scratch SQLite database (every migration applied, the bundled KB imported), with roles for fixed e-mails:
  trainer@example.com (trainer), staff@example.com (it-staff), admin@example.com (admin),
  nobody@example.com (no role). ``build_console_stack(tmp, **console_settings)`` makes another one.
* ``login(client_or_page, email, stack=None)``: signs in through a one-time login link (the code path of
  ``helpdesk console login-link``) for an ``httpx.Client`` or a Playwright page.
* ``browser`` (session): Debian's Chromium via Playwright; ``page``: a fresh context (own cookies) per test;
  ``screenshot(page, name)``: PNGs at 1280 px and 390 px into $HELPDESK_ARTIFACTS_DIR/console or
  tests/artifacts/console/ (gitignored; CI keeps them as artefacts).
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.leakcheck import register_file, register_secret
from tests.uvicorn_thread import ThreadedUvicorn

ROOT = Path(__file__).resolve().parents[2]
TRAINER, STAFF, ADMIN, NOBODY = ("trainer@example.com", "staff@example.com", "admin@example.com",
                                 "nobody@example.com")
ROLE_SETTINGS = {"trainers": [TRAINER], "it_staff": [STAFF], "admins": [ADMIN]}
ARTIFACTS = Path(os.environ["HELPDESK_ARTIFACTS_DIR"]) / "console" if os.environ.get("HELPDESK_ARTIFACTS_DIR") \
    else ROOT / "tests" / "artifacts" / "console"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ConsoleClient(httpx.Client):
    """An httpx client that may already have been used (signed in) when a ``with`` block takes it."""

    def __enter__(self) -> ConsoleClient:
        return self


@dataclass
class ConsoleStack:
    """A bot served on loopback with the console on."""

    base_url: str
    services: Any
    settings: Any
    app: Any

    @property
    def db(self) -> Any:
        return self.services.db

    def url(self, path: str) -> str:
        return self.base_url + path

    def login_link(self, email: str, minutes: int | None = None) -> str:
        """A fresh one-time sign-in link (as `helpdesk console login-link` prints it)."""
        from bot.console.links import issue_login_link

        link = issue_login_link(self.services, email, minutes=minutes)
        register_secret(link.url.rsplit("/", 1)[-1], kind="token")
        return link.url

    def client(self, email: str | None = None) -> ConsoleClient:
        """An httpx client on this stack (signed in as ``email`` when given). Close it (or use ``with``)."""
        client = ConsoleClient(base_url=self.base_url, timeout=20, follow_redirects=False)
        if email is not None:
            sign_in(self, client, email)
        return client


@contextmanager
def build_console_stack(tmp: Path, *, import_kb: bool = True, services_kwargs: dict[str, Any] | None = None,
                        sections: dict[str, dict[str, Any]] | None = None, **console: Any) -> Iterator[ConsoleStack]:
    """Serve a bot with the console over a fresh SQLite database in ``tmp``.

    ``console`` overrides ``[console]`` settings (roles default to :data:`ROLE_SETTINGS`); ``sections`` other
    sections (e.g. ``{"ticketing": {...}}``); ``services_kwargs`` collaborators for ``Services`` (e.g. an encoder).
    """
    from bot.config import load_settings
    from bot.server import create_app
    from bot.services import Services
    from bot.storage import migrate
    from bot.storage.session import Database

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    db_file = tmp / "console.db"
    values: dict[str, Any] = {
        "database": {"url": f"sqlite:///{db_file}"},
        "server": {"public_url": base_url, "run_workers": False},
        "paths": {"data_dir": str(ROOT / "data"), "models_dir": str(tmp / "models"), "var_dir": str(tmp / "var")},
        "kb": {"articles_dir": str(ROOT / "data" / "kb")},
        # every test signs in from 127.0.0.1: the per-address sign-in limit must not bite across a whole run
        "console": {**ROLE_SETTINGS, "sign_ins_per_hour": 100_000, **console},
    }
    for key, value in (sections or {}).items():
        values[key] = {**values.get(key, {}), **value}
    empty = tmp / "helpdesk.toml"
    empty.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    settings = load_settings(empty, environ=env, **values)
    db = Database(settings.database.url.get_secret_value())
    migrate.upgrade(db)
    services = Services(settings, db, **(services_kwargs or {}))
    if import_kb:
        services.kb.import_dir(ROOT / "data" / "kb")
        services.kb.mark_bootstrapped()
    app = create_app(services, start_workers=False)
    server = ThreadedUvicorn(app, port)
    server.start()
    register_file(db_file, "console stack database")
    try:
        yield ConsoleStack(base_url, services, settings, app)
    finally:
        server.stop()
        db.dispose()


@pytest.fixture(scope="session")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    """The shared console stack (session-scoped: tests must not depend on each other's data)."""
    with build_console_stack(tmp_path_factory.mktemp("console")) as stack:
        yield stack


_FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def sign_in(stack: ConsoleStack, client_or_page: Any, email: str) -> None:
    """Sign in as ``email`` through a fresh one-time login link (httpx.Client or Playwright page)."""
    url = stack.login_link(email)
    if isinstance(client_or_page, httpx.Client):
        page = client_or_page.get(url)
        assert page.status_code == 200, page.text
        match = _FORM_TOKEN.search(page.text)
        assert match, "the login-link page has no form"
        done = client_or_page.post(url, data={"form_token": match.group(1)})
        assert done.status_code == 303 and done.headers["location"].startswith("/console"), done.text
        for cookie in client_or_page.cookies.jar:
            if cookie.value:
                register_secret(cookie.value, kind="token")
        return
    client_or_page.goto(url)
    client_or_page.get_by_role("button", name=re.compile("^Sign in as")).click()
    client_or_page.wait_for_url(re.compile(r".*/console/.*"))
    for cookie in client_or_page.context.cookies():
        register_secret(cookie["value"], kind="token")


@pytest.fixture
def login(console_stack: ConsoleStack) -> Callable[..., None]:
    """``login(client_or_page, email, stack=None)``: sign in through a one-time login link."""
    def do(client_or_page: Any, email: str, stack: ConsoleStack | None = None) -> None:
        sign_in(stack or console_stack, client_or_page, email)

    return do


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (its own cookies) and page, 1280×800; CSP violations fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda msg: problems.append(msg.text)
          if msg.type == "error" and "Content Security Policy" in msg.text else None)
    yield pg
    context.close()
    assert not problems, f"the page broke its Content-Security-Policy: {problems}"


@pytest.fixture
def screenshot() -> Callable[[Any, str], list[Path]]:
    """``screenshot(page, name)``: full-page PNGs at 1280 px and 390 px wide (the viewport is restored)."""
    def shoot(pg: Any, name: str) -> list[Path]:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        before = pg.viewport_size or {"width": 1280, "height": 800}
        saved = []
        for width, height in ((1280, 800), (390, 844)):
            pg.set_viewport_size({"width": width, "height": height})
            path = ARTIFACTS / f"{name}-{width}.png"
            pg.screenshot(path=str(path), full_page=True)
            saved.append(path)
        pg.set_viewport_size(before)
        return saved

    return shoot
