"""The console seen by an attacker: CSRF on every state change, no way off the console through ``next=``,
no fixed session, one-time tokens kept out of the access log, a crash page with the headers, and text
from employees or trainers never turned into markup (Markdown preview, charts)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bot.console import console_app, console_routes, sessions
from bot.console.signin import safe_next
from bot.logs import configure_logging
from tests.console.conftest import ADMIN, ConsoleStack
from tests.leakcheck import register_secret

REFUSED = "did not come from the console"
HOSTILE_NEXT = ["https://evil.example/", "//evil.example/console", "/\\evil.example", "javascript:alert(1)",
                "/consolex", "/console/../evil", "/console/%2e%2e/evil", "/console//evil.example",
                "/console\r\nLocation: https://evil.example", "/console/\t/evil", "evil.example", ""]


def state_changing_routes(stack: ConsoleStack) -> list[tuple[str, str]]:
    """(method, path) of every console route that is not a GET/HEAD, parameters filled in."""
    return [(m, re.sub(r"\{[^}]+\}", "1", p)) for m, p in console_routes(stack.app)
            if m not in ("GET", "HEAD") and not p.startswith("/console/login")]


def test_every_state_change_needs_the_sessions_csrf_token(console_stack) -> None:
    """Every POST (forms, the preview's fetch(), sign-out) without the token, or with another session's, is
    refused before anything runs, even for an administrator."""
    routes = state_changing_routes(console_stack)
    assert ("POST", "/console/logout") in routes and ("POST", "/console/articles/preview") in routes
    assert len(routes) >= 20
    with console_stack.client(ADMIN) as admin, console_stack.client(ADMIN) as other:
        foreign = sessions.csrf_for(other.cookies["helpdesk_console"])
        for method, path in routes:
            for attempt in ({}, {"data": {"csrf_token": foreign}}, {"headers": {"X-CSRF-Token": foreign}},
                            {"json": {"csrf_token": foreign}}):
                answer = admin.request(method, path, **attempt)  # type: ignore[arg-type]
                assert answer.status_code == 403 and REFUSED in answer.text, (method, path, attempt)
        assert admin.get("/console/").status_code == 200  # still signed in: nothing was done


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_next_never_leads_off_the_console(console_stack, target: str) -> None:
    assert safe_next(target) == "/console/"
    with console_stack.client(ADMIN) as admin:
        answer = admin.get("/console/login", params={"next": target})
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"


def test_next_inside_the_console_is_kept(console_stack) -> None:
    with console_stack.client(ADMIN) as admin:
        answer = admin.get("/console/login", params={"next": "/console/tickets?status=open"})
    assert answer.headers["location"] == "/console/tickets?status=open"


def test_a_cookie_planted_before_sign_in_is_never_adopted(console_stack) -> None:
    """Session fixation: a value set in the browser before signing in is not the session afterwards."""
    planted = sessions.new_token()
    with console_stack.client() as client:
        client.cookies.set("helpdesk_console", planted, path="/console")
        assert client.get("/console/").status_code == 303
        link = console_stack.login_link(ADMIN)
        form = re.search(r'name="form_token" value="([^"]+)"', client.get(link).text)
        assert form is not None
        done = client.post(link, data={"form_token": form.group(1)})
        assert done.status_code == 303
        issued = re.search(r"helpdesk_console=([^;]+);", done.headers["set-cookie"])
        assert issued is not None
        register_secret(issued.group(1), kind="token")
        assert issued.group(1) != planted
        cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith("helpdesk_console="))
        for flag in ("HttpOnly", "Path=/console", "SameSite=lax"):  # on http; https adds Secure and __Host-
            assert flag in cookie, cookie
    with console_stack.client() as attacker:
        attacker.cookies.set("helpdesk_console", planted, path="/console")
        assert attacker.get("/console/").status_code == 303


@contextmanager
def root_logging(serve: bool) -> Iterator[None]:
    """The root logger as `helpdesk serve` sets it up (``configure_logging``: its handler also masks credentials in
    the whole message) or with none of the bot's handlers (uvicorn's own logging), whichever test ran before; the
    handlers and levels are put back afterwards."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_helpdesk", False)]
    loggers = [root, *(lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger))]
    levels = [(lg, lg.level) for lg in loggers]
    for handler in ours:
        root.removeHandler(handler)
    try:
        if serve:
            configure_logging("INFO")
        yield
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_helpdesk", False)]:
            root.removeHandler(handler)
        for handler in ours:
            root.addHandler(handler)
        for lg, level in levels:
            lg.setLevel(level)


@pytest.mark.parametrize("serve", [False, True], ids=["uvicorn-logging", "helpdesk-serve-logging"])
def test_the_access_log_never_shows_a_one_time_link_or_a_webhook_secret(console_stack, caplog, monkeypatch,
                                                                         serve: bool) -> None:
    """As under `helpdesk serve` (uvicorn with log_config=None: its access log propagates to ours) and under
    uvicorn's own logging, the request line of a sign-in link, a reset link, a Jira webhook and an OIDC redirect
    is logged with its secret masked and everything else as requested."""
    access = logging.getLogger("uvicorn.access")
    monkeypatch.setattr(access, "propagate", True)
    monkeypatch.setattr(access, "disabled", False)
    link = console_stack.login_link(ADMIN)
    link_token = link.rsplit("/", 1)[-1]
    reset_token, webhook_secret = "Rz" + sessions.new_token(), "hook-" + sessions.new_token()
    code, state = "c0de" + sessions.new_token(), "st-not-secret"
    register_secret(reset_token, webhook_secret, code, kind="token")
    with root_logging(serve), caplog.at_level(logging.INFO, logger="uvicorn.access"), \
            console_stack.client() as client:
        client.get(link)
        client.get(f"/reset/{reset_token}?x=1")
        client.post(f"/webhooks/jira?secret={webhook_secret}&user=1", content=b"{}")
        client.get(f"/console/login/callback/okta?code={code}&state={state}")
    lines = list(dict.fromkeys(r.getMessage() for r in caplog.records if r.name == "uvicorn.access"))
    assert len(lines) == 4, lines
    for secret in (link_token, reset_token, webhook_secret, code):
        assert all(secret not in line for line in lines)
    # the whole request line: the secret masked, the other query parameters verbatim, nothing else changed
    assert '"GET /console/login/link/[REDACTED] HTTP/1.1"' in lines[0], lines[0]
    assert '"GET /reset/[REDACTED]?x=1 HTTP/1.1"' in lines[1], lines[1]
    assert f'"GET /console/login/callback/okta?code=[REDACTED]&state={state} HTTP/1.1"' in lines[3], lines[3]
    assert '"POST /webhooks/jira?secret=[REDACTED]&user=1 HTTP/1.1"' in lines[2], lines[2]


def test_a_crash_shows_a_plain_page_with_every_security_header(console_stack) -> None:
    inner = console_app(console_stack.app)
    assert inner is not None
    secret = "crash-detail-" + sessions.new_token()
    register_secret(secret, kind="token")

    def boom() -> None:
        raise RuntimeError(secret)

    inner.add_api_route("/r1-crash-probe", boom)
    try:
        with console_stack.client(ADMIN) as admin:
            answer = admin.get("/console/r1-crash-probe")
    finally:
        inner.router.routes[:] = [r for r in inner.router.routes if getattr(r, "path", "") != "/r1-crash-probe"]
    assert answer.status_code == 500 and "Something went wrong" in answer.text
    assert secret not in answer.text and "Traceback" not in answer.text
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")
    assert answer.headers["x-frame-options"] == "DENY" and "no-store" in answer.headers["cache-control"]


def test_markdown_preview_and_charts_never_carry_markup_from_their_text() -> None:
    from bot.analytics import charts
    from bot.console.pages.articles_data import render_markdown

    html = render_markdown("<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1)) "
                           "[data](data:text/html;base64,PHNjcmlwdD4=) ![i](vbscript:x)\n\n<script>alert(2)</script>")
    assert "<img src=x" not in html and "<script>" not in html
    assert 'href="javascript:' not in html and 'href="data:' not in html and 'src="vbscript:' not in html
    label = '<script>alert(1)</script>" onload="x'
    svgs = [charts.bar_chart("g", label, [(label, 3.0)]),
            charts.line_chart("t", label, ["2026-12-01", "2026-12-02"], [(label, [1.0, 2.0])])]
    for svg in svgs:
        assert "<script>" not in svg and '" onload="x' not in svg and "&lt;script&gt;" in svg
