"""The reset page under abuse: strict security headers on every page, size limits, per-account/address limits."""

from __future__ import annotations

import datetime as dt
import logging

import httpx
import pytest

from integrations.directory import audit
from tests.directory.helpers import add_person, form_csrf
from tests.leakcheck import register_secret

pytestmark = pytest.mark.ldap


def assert_strict(resp: httpx.Response) -> None:
    csp = resp.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if " " in d.strip())
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert directives["default-src"] == "'none'" and directives["script-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'" and directives["style-src"].startswith("'sha256-")
    assert resp.headers["x-frame-options"] == "DENY" and resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "no-referrer" and "no-store" in resp.headers["cache-control"]
    assert resp.headers["cross-origin-opener-policy"] == "same-origin"
    assert "style=" not in resp.text and "<script" not in resp.text, "no inline style attribute or script"


def test_every_page_has_a_strict_csp_and_security_headers(ldap_stack):
    url = ldap_stack.reset_link("olivia", "slack:UHDRS")
    with httpx.Client() as web:
        pages = [web.get(url)]  # the form
        pages.append(web.post(url, data={"csrf": "forged", "password": "x", "confirm": "x"}))  # 403
        pages.append(web.get(ldap_stack.base_url + "/reset/no-such-token"))  # 404
        pages.append(web.post(url, content=b"password=" + b"A" * 10_000,
                              headers={"content-type": "application/x-www-form-urlencoded"}))  # 413
    assert [p.status_code for p in pages] == [200, 403, 404, 413]
    for resp in pages:
        assert_strict(resp)
        assert resp.headers["content-type"].startswith("text/html")


def test_oversized_and_chunked_forms_are_refused_before_they_are_read(ldap_stack):
    url = ldap_stack.reset_link("peggy", "slack:UBIGFORM")

    def chunks():
        for _ in range(64):
            yield b"a" * 1024

    with httpx.Client() as web:
        page = web.get(url)
        huge = web.post(url, content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"})
        assert huge.status_code == 413 and "too large" in huge.text
        # the link still works: nothing was spent by the refused request
        again = web.get(url)
    assert page.status_code == again.status_code == 200
    assert form_csrf(again.text)


def test_password_attempts_are_limited_per_account_and_per_address(slapd, ldap_stack):
    add_person(slapd, "ines", ["ines@example.com"])
    add_person(slapd, "jonas", ["jonas@example.com"])
    bad = "Tiny-Pw-7x"  # shorter than the rules allow: a rejected attempt
    register_secret(bad)
    with ldap_stack.served_with(reset_page_submits_per_account_per_hour=2, reset_page_max_attempts=10,
                                reset_page_submits_per_address_per_hour=1000) as stack:
        url = stack.reset_link("ines", "slack:UINES")
        codes = []
        with httpx.Client() as web:
            page = web.get(url)
            for _ in range(3):
                resp = web.post(url, data={"csrf": form_csrf(page.text), "password": bad, "confirm": bad})
                codes.append(resp.status_code)
                page = resp if resp.status_code == 422 else page
        assert codes == [422, 422, 429]
        assert "Too many password attempts" in resp.text and resp.headers["retry-after"] == "3600"
        # a fresh link for the same account does not reset the account's limit
        url2 = stack.reset_link("ines", "slack:UINES")
        with httpx.Client() as web:
            page = web.get(url2)
            assert web.post(url2, data={"csrf": form_csrf(page.text), "password": bad,
                                        "confirm": bad}).status_code == 429
    with ldap_stack.services.db.session() as s:  # this module's earlier submits count for the address too
        used = audit.count(s, "reset_submit_address:127.0.0.1", dt.timedelta(hours=1))
    with ldap_stack.served_with(reset_page_submits_per_address_per_hour=used + 1, reset_page_max_attempts=10) as stack:
        first, second = stack.reset_link("ines", "slack:UINES2"), stack.reset_link("jonas", "slack:UJONAS")
        results = []
        for url in (first, second):
            with httpx.Client() as web:
                page = web.get(url)
                results.append(web.post(url, data={"csrf": form_csrf(page.text), "password": bad,
                                                   "confirm": bad}).status_code)
    assert results == [422, 429], results


def test_an_http_public_url_is_reported_loudly(ldap_stack, caplog):
    from bot.web.reset import build_router

    assert ldap_stack.settings.server.public_url.startswith("http://")
    warnings = ldap_stack.settings.directory.reset_page_warnings(ldap_stack.settings.server.public_url)
    assert warnings and "not marked Secure" in warnings[0]
    with caplog.at_level(logging.WARNING):
        build_router(ldap_stack.services)
    assert any("INSECURE" in r.getMessage() and "Secure" in r.getMessage() for r in caplog.records)
    assert ldap_stack.settings.directory.reset_page_warnings("https://helpdesk.example.com") == []
    with httpx.Client() as web:
        cookie = web.get(ldap_stack.reset_link("olivia", "slack:UCOOKIE")).headers["set-cookie"]
    assert "samesite=strict" in cookie.lower() and "httponly" in cookie.lower()
