"""Console sign-in: OpenID Connect against a spec-checking local provider, login links, roles, CSRF,
session expiry, security headers, and no secret on a page or in the logs."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from bot.config.console import ConsoleSettings
from bot.console import console_app, console_routes, sessions
from bot.console.models import ConsoleAction, ConsoleLoginLink, ConsoleSession
from bot.storage.base import utcnow
from tests.console.conftest import ADMIN, NOBODY, STAFF, TRAINER, ConsoleStack, build_console_stack, sign_in
from tests.console.fake_oidc import FakeOidc, FakeOidcServer
from tests.leakcheck import debug_logging, register_secret

OKTA_SECRET = "okta-client-secret-0123456789"
SLACK_SECRET = "slack-client-secret-9876543210"
SIGN_IN_PATHS = ("/login", "/logout", "/static")


@pytest.fixture(autouse=True)
def debug_logs() -> Iterator[None]:
    """Log everything at DEBUG during these tests: the session's leak check reads every record for secrets."""
    with debug_logging():
        yield


@pytest.fixture(scope="module")
def providers() -> Iterator[tuple[FakeOidc, FakeOidc]]:
    """Two providers: a generic one (client_secret_basic) and a Slack-like one (client_secret_post only)."""
    register_secret(OKTA_SECRET, SLACK_SECRET, kind="token")
    okta = FakeOidc(client_id="console-okta", client_secret=OKTA_SECRET)
    slack = FakeOidc(client_id="1234.5678", client_secret=SLACK_SECRET, auth_methods=("client_secret_post",),
                     user={"sub": "U0STAFF", "email": STAFF, "email_verified": True, "name": "Sam Staff"})
    with FakeOidcServer(okta), FakeOidcServer(slack):
        yield okta, slack


@pytest.fixture(scope="module")
def oidc_stack(tmp_path_factory: pytest.TempPathFactory, providers: tuple[FakeOidc, FakeOidc]
               ) -> Iterator[ConsoleStack]:
    okta, slack = providers
    with build_console_stack(
            tmp_path_factory.mktemp("console-oidc"), import_kb=False,
            slack={"client_id": slack.client_id, "client_secret": SLACK_SECRET, "discovery_url": slack.discovery_url},
            oidc=[{"name": "okta", "label": "Okta", "discovery_url": okta.discovery_url,
                   "client_id": okta.client_id, "client_secret": OKTA_SECRET}]) as stack:
        okta.redirect_uris = [stack.url("/console/login/callback/okta")]
        slack.redirect_uris = [stack.url("/console/login/callback/slack")]
        yield stack


@pytest.fixture
def okta(providers: tuple[FakeOidc, FakeOidc]) -> Iterator[FakeOidc]:
    fake = providers[0]
    fake.violations.clear()
    fake.tamper = None
    yield fake
    fake.tamper = None


def oidc_round_trip(client: httpx.Client, provider: str) -> httpx.Response:
    """Start at the console, follow the provider's redirect (it signs the user in), return the callback's answer."""
    start = client.get(f"/console/login/oidc/{provider}?next=/console/")
    assert start.status_code == 303, start.text
    at_provider = httpx.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    return client.get(at_provider.headers["location"])


def session_row(stack: ConsoleStack, client: httpx.Client) -> ConsoleSession:
    cookie = client.cookies.get("helpdesk_console")
    assert cookie
    with stack.db.session() as db:
        row = db.scalars(select(ConsoleSession).where(ConsoleSession.token_hash == sessions.digest(cookie))).one()
        db.expunge(row)
        return row


# ------------------------------------------------------------------------------------------- OIDC
@pytest.mark.browser
def test_sign_in_with_an_oidc_provider_in_chromium(oidc_stack, okta, page, screenshot) -> None:
    page.goto(oidc_stack.url("/console/?tab=mine"))  # not signed in: to the sign-in page
    assert "/console/login?next=" in page.url
    assert page.get_by_role("link", name="Sign in with Slack").is_visible()
    screenshot(page, "login")
    page.get_by_role("link", name="Sign in with Okta").click()
    page.wait_for_url(re.compile(r".*/console/\?tab=mine$"))  # back where the user wanted to go
    assert page.get_by_role("heading", name="Welcome, Ada Admin").is_visible()
    assert "Administrator" in page.locator("main").inner_text()
    screenshot(page, "home")
    button = page.get_by_role("button", name="Sign out")
    page.keyboard.press("Tab")  # the skip link comes first, and its focus is visible
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["helpdesk_console"]
    register_secret(session["value"], kind="token")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert "helpdesk_console_pre" not in cookies  # the pre-sign-in cookie is gone
    button.click()
    page.wait_for_url(re.compile(r".*/console/login\?signed_out=1$"))
    assert page.get_by_role("status").inner_text() == "You are signed out."
    assert okta.violations == []  # every request the console sent was valid for the provider


def test_sign_in_with_slack_uses_client_secret_post_and_gets_the_roles(oidc_stack, providers) -> None:
    slack = providers[1]
    slack.violations.clear()
    with oidc_stack.client() as client:
        done = oidc_round_trip(client, "slack")
        assert done.status_code == 303 and done.headers["location"] == "/console/"
        home = client.get("/console/")
        assert home.status_code == 200 and "Sam Staff" in home.text and "IT staff" in home.text
        assert session_row(oidc_stack, client).via == "oidc:slack"
    assert slack.violations == []
    assert "POST /token" in slack.requests


@pytest.mark.parametrize("tamper", ["signature", "aud", "iss", "nonce", "expired", "unverified"])
def test_a_bad_id_token_is_refused(oidc_stack, okta, tamper) -> None:
    okta.tamper = tamper
    with oidc_stack.client() as client:
        done = oidc_round_trip(client, "okta")
        assert done.status_code == 401 and "Not signed in" in done.text
        assert client.cookies.get("helpdesk_console") is None
        assert client.get("/console/").status_code == 303  # still not signed in
    with oidc_stack.db.session() as db:
        refused = db.scalars(select(ConsoleAction).where(ConsoleAction.action == "signin.refused")
                             .order_by(ConsoleAction.id.desc())).first()
        assert refused is not None and refused.target == "okta"


def test_without_an_email_in_the_id_token_the_userinfo_endpoint_is_asked(oidc_stack, okta) -> None:
    okta.tamper = "no_email"
    with oidc_stack.client() as client:
        assert oidc_round_trip(client, "okta").status_code == 303
        assert session_row(oidc_stack, client).email == ADMIN
    assert "GET /userinfo" in okta.requests and okta.violations == []


def test_a_callback_from_another_browser_or_replayed_is_refused(oidc_stack, okta) -> None:
    with oidc_stack.client() as victim, oidc_stack.client() as attacker:
        start = attacker.get("/console/login/oidc/okta")
        callback = httpx.get(start.headers["location"]).headers["location"]
        # the victim's browser is made to open the attacker's callback: no pre-sign-in cookie of that flow
        forced = victim.get(callback)
        assert forced.status_code == 400 and victim.cookies.get("helpdesk_console") is None
        # the state was used up, so the attacker cannot finish either
        assert attacker.get(callback).status_code == 400
    with oidc_stack.client() as client:
        cancelled = client.get("/console/login/callback/okta?error=access_denied&state=x")
        assert cancelled.status_code == 401 and "cancelled or refused" in cancelled.text


def test_the_fake_provider_refuses_a_non_conforming_client(oidc_stack, okta) -> None:
    """The fake is strict: PKCE, redirect URI, client authentication, single-use codes."""
    with oidc_stack.client() as client:
        authorize = httpx.get(client.get("/console/login/oidc/okta").headers["location"])
    callback = authorize.headers["location"]
    code = re.search(r"code=([^&]+)", callback).group(1)  # type: ignore[union-attr]
    token_url = okta.base_url + "/token"
    redirect = oidc_stack.url("/console/login/callback/okta")
    no_verifier = httpx.post(token_url, data={"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": redirect}, auth=(okta.client_id, OKTA_SECRET))
    assert no_verifier.status_code == 400 and no_verifier.json()["error"] == "invalid_grant"
    wrong_secret = httpx.post(token_url, data={"grant_type": "authorization_code", "code": code},
                              auth=(okta.client_id, "wrong-secret-value"))
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    no_pkce = httpx.get(okta.base_url + "/authorize", params={
        "client_id": okta.client_id, "redirect_uri": redirect, "response_type": "code", "scope": "openid",
        "state": "s", "nonce": "n"})
    assert "error=invalid_request" in no_pkce.headers["location"] and "state=s" in no_pkce.headers["location"]
    elsewhere = httpx.get(okta.base_url + "/authorize", params={
        "client_id": okta.client_id, "redirect_uri": "https://evil.example.com/cb", "response_type": "code",
        "scope": "openid", "state": "s", "nonce": "n", "code_challenge": "x" * 43, "code_challenge_method": "S256"})
    assert elsewhere.status_code == 400 and "location" not in elsewhere.headers
    assert len(okta.violations) == 4


# ------------------------------------------------------------------------------------------- login links
def test_a_login_link_signs_in_once_in_chromium(oidc_stack, page) -> None:
    url = oidc_stack.login_link(TRAINER)
    page.goto(url)
    page.get_by_role("button", name=f"Sign in as {TRAINER}").click()
    page.wait_for_url(re.compile(r".*/console/$"))
    assert page.get_by_role("heading", name=f"Welcome, {TRAINER}").is_visible()
    assert "Trainer" in page.locator("main").inner_text()
    # the same link again, in another browser: refused
    other = page.context.browser.new_context()
    again = other.new_page()
    response = again.goto(url)
    assert response is not None and response.status == 410
    assert "not valid any more" in again.locator("main").inner_text()
    other.close()


def test_a_used_or_expired_login_link_is_refused_and_audited(oidc_stack) -> None:
    url = oidc_stack.login_link(STAFF)
    with oidc_stack.client() as first, oidc_stack.client() as second:
        form = first.get(url)
        form_token = re.search(r'name="form_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        # a second browser opened the form too; the first submit wins, the second is refused
        form2 = second.get(url)
        form_token2 = re.search(r'name="form_token" value="([^"]+)"', form2.text).group(1)  # type: ignore[union-attr]
        assert first.post(url, data={"form_token": form_token}).status_code == 303
        assert second.post(url, data={"form_token": form_token2}).status_code == 410
        assert second.get("/console/").status_code == 303
        # a submit without the form's own value (e.g. from another site) is refused before the link is used
        fresh = oidc_stack.login_link(STAFF)
        second.get(fresh)
        assert second.post(fresh, data={"form_token": "forged"}).status_code == 403
    expired = oidc_stack.login_link(STAFF)
    with oidc_stack.db.session() as db:
        db.execute(update(ConsoleLoginLink).where(ConsoleLoginLink.token_hash == sessions.digest(
            expired.rsplit("/", 1)[-1])).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    with oidc_stack.client() as client:
        assert client.get(expired).status_code == 410
        assert client.get(oidc_stack.url("/console/login/link/made-up-token")).status_code == 404
    with oidc_stack.db.session() as db:
        kinds = {a.action for a in db.scalars(select(ConsoleAction).where(ConsoleAction.target == STAFF))}
    assert {"login_link.issue", "login_link.use", "signin"} <= kinds


def test_the_cli_prints_a_working_login_link(oidc_stack, monkeypatch) -> None:
    from typer.testing import CliRunner

    from bot.cli import app, common

    monkeypatch.setattr(common, "open_services", lambda **_: oidc_stack.services)
    result = CliRunner().invoke(app, ["console", "login-link", "--email", ADMIN, "--minutes", "5", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    register_secret(data["url"].rsplit("/", 1)[-1], kind="token")
    assert data["roles"] == ["admin"] and data["url"].startswith(oidc_stack.url("/console/login/link/"))
    with oidc_stack.client() as client:
        assert client.get(data["url"]).status_code == 200
    bad = CliRunner().invoke(app, ["console", "login-link", "--email", "not-an-address"])
    assert bad.exit_code == 1 and "--email" in bad.output


# ------------------------------------------------------------------------------------------- roles, CSRF
def page_routes(stack: ConsoleStack) -> list[tuple[str, str]]:
    """(method, path with parameters filled in) for every console page route (sign-in routes aside)."""
    found = []
    for method, path in console_routes(stack.app):
        if method == "HEAD" or path.removeprefix("/console").startswith(SIGN_IN_PATHS):
            continue
        found.append((method, re.sub(r"\{[^}]+\}", "1", path)))
    return found


def test_a_user_without_a_role_is_refused_every_console_page(oidc_stack) -> None:
    routes = page_routes(oidc_stack)
    assert ("GET", "/console/") in routes
    with oidc_stack.client(NOBODY) as nobody, oidc_stack.client() as anonymous:
        csrf = {"X-CSRF-Token": sessions.csrf_for(nobody.cookies["helpdesk_console"])}
        for method, path in routes:
            answer = nobody.request(method, path, headers=csrf if method != "GET" else None)
            assert answer.status_code == 403, (method, path, answer.status_code)
            assert "no console role" in answer.text
            anon = anonymous.request(method, path)
            if method == "GET":
                assert anon.status_code == 303 and anon.headers["location"].startswith("/console/login?next=")
            else:
                assert anon.status_code == 401, (method, path)


def test_roles_decide_what_each_user_sees(oidc_stack) -> None:
    """The nav shows each page to the roles it is for (admin: every page); the landing page names the role."""
    inner = console_app(oidc_stack.app)
    assert inner is not None
    nav = inner.state.console.nav
    with oidc_stack.client(TRAINER) as trainer, oidc_stack.client(STAFF) as staff, \
            oidc_stack.client(ADMIN) as admin:
        pages = {"trainer": trainer.get("/console/").text, "it-staff": staff.get("/console/").text,
                 "admin": admin.get("/console/").text}
    assert "Trainer" in pages["trainer"] and "IT staff" in pages["it-staff"] and "Administrator" in pages["admin"]
    for entry in nav:
        link = f'href="{entry.href}"'
        assert link in pages["admin"]
        for role in ("trainer", "it-staff"):
            assert (link in pages[role]) == (entry.role in ("", role)), (entry, role)


def test_csrf_missing_or_wrong_is_refused(oidc_stack) -> None:
    with oidc_stack.client(TRAINER) as client:
        cookie = client.cookies["helpdesk_console"]
        assert client.post("/console/logout").status_code == 403
        assert client.post("/console/logout", data={"csrf_token": "0" * 64}).status_code == 403
        assert client.post("/console/logout", headers={"X-CSRF-Token": sessions.csrf_for("another")}).status_code == 403
        assert client.get("/console/").status_code == 200  # still signed in
        page = client.get("/console/").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        assert token == sessions.csrf_for(cookie)
        out = client.post("/console/logout", data={"csrf_token": token})
        assert out.status_code == 303 and out.headers["location"] == "/console/login?signed_out=1"
        assert "You are signed out." in client.get(out.headers["location"]).text
    with oidc_stack.client() as replay:  # the old cookie no longer works after signing out
        replay.cookies.set("helpdesk_console", cookie, path="/console")
        assert replay.get("/console/").status_code == 303


@pytest.mark.parametrize("which", ["idle", "absolute"])
def test_an_expired_session_goes_back_to_the_sign_in_page(oidc_stack, which) -> None:
    cfg = oidc_stack.settings.console
    with oidc_stack.client(TRAINER) as client:
        row = session_row(oidc_stack, client)
        now = utcnow()
        values: dict[str, Any] = (
            {"last_seen_at": now - dt.timedelta(minutes=cfg.session_minutes, seconds=1)} if which == "idle"
            else {"expires_at": now - dt.timedelta(seconds=1), "last_seen_at": now})
        with oidc_stack.db.session() as db:
            db.execute(update(ConsoleSession).where(ConsoleSession.id == row.id).values(**values))
        answer = client.get("/console/")
        assert answer.status_code == 303 and answer.headers["location"] == "/console/login?next=/console/"
        assert client.post("/console/logout", headers={"X-CSRF-Token": sessions.csrf_for(
            client.cookies["helpdesk_console"])}).status_code == 401


def test_activity_keeps_a_session_alive_until_its_absolute_end(oidc_stack) -> None:
    cfg = oidc_stack.settings.console
    with oidc_stack.client(TRAINER) as client:
        row = session_row(oidc_stack, client)
        with oidc_stack.db.session() as db:  # last request almost session_minutes ago: still fine
            db.execute(update(ConsoleSession).where(ConsoleSession.id == row.id).values(
                last_seen_at=utcnow() - dt.timedelta(minutes=cfg.session_minutes - 1)))
        assert client.get("/console/").status_code == 200
        assert session_row(oidc_stack, client).last_seen_at > utcnow() - dt.timedelta(minutes=1)


# ------------------------------------------------------------------------------------------- headers, secrets
def test_security_headers_on_every_kind_of_console_response(oidc_stack) -> None:
    with oidc_stack.client(TRAINER) as client:
        answers = [client.get("/console/"), client.get("/console/login"), client.get("/console/no-such-page"),
                   client.get("/console/static/console.css"), client.post("/console/logout"),
                   httpx.get(oidc_stack.url("/console/"))]
    for answer in answers:
        h = answer.headers
        assert h["content-security-policy"].startswith("default-src 'self'; script-src 'self'"), answer.url
        assert "unsafe-inline" not in h["content-security-policy"]
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer" and "no-store" in h["cache-control"]
    assert answers[2].status_code == 404 and "<h1>Not found</h1>" in answers[2].text


def test_cookies_are_secure_with_the_host_prefix_on_https(oidc_stack) -> None:
    """With an https public URL the session cookie is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/."""
    from fastapi.responses import Response

    from bot.console import build_context
    from bot.console.signin import set_session_cookie
    from bot.services import Services

    settings = oidc_stack.settings.model_copy(update={"server": oidc_stack.settings.server.model_copy(
        update={"public_url": "https://helpdesk.example.com"})})
    ctx = build_context(Services(settings, oidc_stack.db))
    response = Response()
    set_session_cookie(ctx, response, "value")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-helpdesk_console=value;")
    for flag in ("HttpOnly", "Path=/;", "SameSite=lax", "Secure"):
        assert flag in cookie
    assert "Domain" not in cookie and "Strict-Transport-Security" in ctx.headers
    assert ctx.oidc["okta"].redirect_uri == "https://helpdesk.example.com/console/login/callback/okta"


def test_no_secret_is_rendered(oidc_stack, okta) -> None:
    with oidc_stack.client() as client:
        assert oidc_round_trip(client, "okta").status_code == 303
        cookie = client.cookies["helpdesk_console"]
        register_secret(cookie, kind="token")
        pages = [client.get(p).text for p in ("/console/", "/console/login", "/console/nope")]
    for html in pages:
        assert OKTA_SECRET not in html and SLACK_SECRET not in html and cookie not in html
    # the PKCE verifiers, access and ID tokens of every sign-in so far: the leak check searches the logs
    # and the database for them (and the client secrets, cookies and link tokens) at the end of the run
    register_secret(*okta.issued, kind="token")
    with oidc_stack.db.session() as db:  # the database holds only the cookie's hash
        row = db.scalars(select(ConsoleSession).where(ConsoleSession.token_hash == sessions.digest(cookie))).one()
        assert row.token_hash != cookie


def test_too_many_sign_in_attempts_from_one_address_are_slowed_down(oidc_stack, okta, monkeypatch) -> None:
    from sqlalchemy import delete

    from integrations.directory.models import RateCounter

    with oidc_stack.db.session() as db:
        db.execute(delete(RateCounter).where(RateCounter.key.startswith("console_signin:")))
    monkeypatch.setattr(oidc_stack.settings.console, "sign_ins_per_hour", 2)
    with oidc_stack.client() as client:
        answers = [client.get("/console/login/oidc/okta") for _ in range(3)]
        link = oidc_stack.login_link(TRAINER)
        client.get(link)
        link_submit = client.post(link, data={"form_token": client.cookies["helpdesk_console_pre"]})
    assert [a.status_code for a in answers] == [303, 303, 429]
    assert answers[2].headers["retry-after"] == "3600" and "Too many sign-in attempts" in answers[2].text
    assert link_submit.status_code == 429


def test_signing_in_again_ends_the_browsers_previous_session(oidc_stack) -> None:
    with oidc_stack.client(TRAINER) as client:
        first = client.cookies["helpdesk_console"]
        sign_in(oidc_stack, client, ADMIN)
        assert client.cookies["helpdesk_console"] != first
    with oidc_stack.db.session() as db:
        old = db.scalars(select(ConsoleSession).where(ConsoleSession.token_hash == sessions.digest(first))).one()
        assert old.ended_at is not None


def test_console_and_reset_page_share_one_hardening_rule() -> None:
    """One definition (bot/web/headers.py): the console and the reset page differ only in their CSP."""
    from bot.console import context
    from bot.web import headers, reset

    def without_csp(h: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in h.items() if k != "Content-Security-Policy"}

    for https in (False, True):
        console = context.security_headers(https)
        page = headers.security_headers(reset.CSP, https=https)
        assert without_csp(console) == without_csp(page) == without_csp(headers.security_headers("x", https=https))
        assert console["Content-Security-Policy"] == context.CSP
        assert ("Strict-Transport-Security" in console) is https


@pytest.mark.ldap
def test_roles_from_directory_groups(tmp_path_factory, make_settings, sqlite_url) -> None:
    """With a directory, group members get the group's role; a directory that cannot be asked adds none."""
    import shutil

    from bot.console.roles import roles_for
    from bot.services import Services
    from integrations.directory import testing

    if shutil.which("slapd") is None or shutil.which("slapadd") is None:
        pytest.skip("slapd is not installed (apt-get install slapd ldap-utils)")
    register_secret(testing.ROOT_PASSWORD, testing.BOT_PASSWORD)
    slapd = testing.Slapd(tmp_path_factory.mktemp("console-slapd"))
    slapd.start()
    try:
        settings = make_settings(sqlite_url, directory=slapd.settings(), console={
            "trainers": ["tina@example.com"],
            "trainer_groups": [f"cn=staff,ou=groups,{testing.BASE_DN}"],
            "it_staff_groups": [f"cn=it-admins,ou=groups,{testing.BASE_DN}"]})
        services = Services(settings)
        assert roles_for(services, "carol@example.com") == {"trainer", "it-staff"}  # in both groups
        assert roles_for(services, "alice@example.com") == {"trainer"}
        assert roles_for(services, "nobody-here@example.com") == set()
    finally:
        slapd.stop()
    down = Services(settings)
    assert roles_for(down, "carol@example.com") == set()  # directory unreachable: no group roles
    assert roles_for(down, "tina@example.com") == {"trainer"}  # e-mail roles still apply


def test_a_login_link_is_claimed_once_even_by_concurrent_submits(migrated_db) -> None:
    """Eight threads claim the same link at once (SQLite, and PostgreSQL when configured): exactly one wins."""
    import threading

    with migrated_db.session() as db:
        token, _ = sessions.issue_link(db, email=TRAINER, minutes=5)
    register_secret(token, kind="token")
    barrier = threading.Barrier(8)
    won: list[bool] = []

    def claim() -> None:
        barrier.wait()
        with migrated_db.session() as db:
            won.append(sessions.claim_link(db, token) is not None)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [False] * 7 + [True]


def test_sessions_and_links_long_expired_are_forgotten(migrated_db) -> None:
    cfg = ConsoleSettings()
    with migrated_db.session() as db:
        old_cookie = sessions.start(db, cfg, email=TRAINER, name="", roles={"trainer"}, via="link")
        old_link, _ = sessions.issue_link(db, email=TRAINER, minutes=5)
        db.execute(update(ConsoleSession).values(expires_at=utcnow() - dt.timedelta(days=2)))
        db.execute(update(ConsoleLoginLink).values(expires_at=utcnow() - dt.timedelta(days=2)))
    with migrated_db.session() as db:
        sessions.start(db, cfg, email=STAFF, name="", roles={"it-staff"}, via="link")  # a sign-in tidies up
    with migrated_db.session() as db:
        assert sessions.find_link(db, old_link) is None
        assert [s.email for s in db.scalars(select(ConsoleSession))] == [STAFF]
        assert sessions.live(db, cfg, old_cookie) is None


@pytest.mark.parametrize("provider, field", [
    ({"client_secret": ""}, "client_secret"),
    ({"client_secret": "   "}, "client_secret"),
    ({"discovery_url": "http://idp.example.com/.well-known/openid-configuration"}, "discovery_url"),
    ({"discovery_url": "https://idp.example.com/authorize"}, "discovery_url"),
    ({"scopes": ["email"]}, "scopes"),
    ({"name": "Has Spaces"}, "name"),
])
def test_bad_provider_settings_are_refused_naming_the_field(make_settings, sqlite_url, provider, field) -> None:
    from bot.errors import ConfigError

    good = {"name": "okta", "discovery_url": "https://example.okta.com/.well-known/openid-configuration",
            "client_id": "abc", "client_secret": "a-real-secret"}
    with pytest.raises(ConfigError, match=rf"console\.oidc\.0\.{field}"):
        make_settings(sqlite_url, console={"oidc": [{**good, **provider}]})
    with pytest.raises(ConfigError, match=r"console\.slack\.client_secret"):
        make_settings(sqlite_url, console={"slack": {"client_id": "1.2", "client_secret": ""}})
    with pytest.raises(ConfigError, match=r"console\.admins"):
        make_settings(sqlite_url, console={"admins": ["not-an-address"]})


@pytest.mark.browser
def test_someone_without_a_role_is_told_why_in_chromium(oidc_stack, page, screenshot) -> None:
    sign_in(oidc_stack, page, NOBODY)
    response = page.goto(oidc_stack.url("/console/"))
    assert response is not None and response.status == 403
    assert "you have no console role" in page.locator("main").inner_text()
    assert page.get_by_role("navigation", name="Console").get_by_role("link").count() == 0  # no page offered
    screenshot(page, "no-role")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/console/login\?signed_out=1$"))
