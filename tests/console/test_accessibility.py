"""Every console page in Chromium, checked the way a screen-reader or keyboard user meets it: a label on every
field, one h1 and no skipped heading level, ``<th scope>`` in every table, ``aria-current`` on the nav entry of
the page, no positive tabindex, a visible focus ring on everything Tab reaches, and text contrast of at least
4.5:1 (3:1 for large text), at 1280 px and at 390 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import ADMIN, NOBODY, ConsoleStack, sign_in
from tests.ticketing.conftest import press

AUDIT = (Path(__file__).parent / "a11y_audit.js").read_text(encoding="utf-8")
FOCUS = """() => { const el = document.activeElement; if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1)
    || (s.boxShadow && s.boxShadow !== 'none');
  return ring ? '' : el.outerHTML.slice(0, 120); }"""


@pytest.fixture(scope="module")
def paths(console_stack: ConsoleStack) -> list[str]:
    """Every console page (a ticket and an article opened too)."""
    reply = press(console_stack.services, "U0A11Y", "ticket.submit",
                  {"force": True, "summary": "Screen reader cannot read the VPN prompt",
                   "details": "The VPN prompt is silent with NVDA", "urgency": "normal", "category": "vpn_issue"},
                  email="ally@example.com")
    assert reply.ticket_key
    return ["/console/", "/console/tickets", f"/console/tickets/{reply.ticket_key}", "/console/accounts",
            "/console/health", "/console/analytics", "/console/gaps", "/console/intents",
            "/console/intents/intent/vpn_issue", "/console/intents/report", "/console/articles",
            "/console/articles/new", "/console/articles/edit/network/vpn", "/console/articles/history/network/vpn",
            "/console/articles/diff/network/vpn", "/console/tryit", "/console/no-such-page"]


def audit(page: Any, tab_stops: int = 15) -> list[str]:
    """The page's problems; then Tab through its first ``tab_stops`` stops, each of which must show a ring."""
    problems: list[str] = page.evaluate(AUDIT)
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    for _ in range(tab_stops):
        page.keyboard.press("Tab")
        missing = page.evaluate(FOCUS)
        if missing:
            problems.append("no visible focus: " + missing)
            break
    return problems


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_is_labelled_ordered_keyboard_usable_and_readable(console_stack, paths, page, width) -> None:
    page.set_viewport_size({"width": width, "height": 844})
    # the phone run asks for dark mode: the console stays light (its area styles and charts are drawn for a light
    # surface), so it must stay readable rather than mix a dark page with light cards
    page.emulate_media(color_scheme="light" if width == 1280 else "dark")
    stops = 15 if width == 1280 else 4  # the narrow layout only moves things: a few stops show the rings hold
    found: dict[str, list[str]] = {}
    page.goto(console_stack.url("/console/login"))
    found["/console/login"] = audit(page, stops)
    sign_in(console_stack, page, ADMIN)
    for path in paths:
        page.goto(console_stack.url(path))
        found[path] = audit(page, stops)
    page.goto(console_stack.url("/console/tryit"))
    page.get_by_label("Question").fill("How do I connect to the VPN from home?")
    page.get_by_role("button", name="Ask").click()
    page.wait_for_selector("text=The reply")
    found["/console/tryit (answered)"] = audit(page, stops)
    bad = {p: v for p, v in found.items() if v}
    assert bad == {}, "\n".join(f"{p}: {problem}" for p, v in bad.items() for problem in v)


def test_the_no_role_page_is_accessible_too(console_stack, page) -> None:
    sign_in(console_stack, page, NOBODY)
    page.goto(console_stack.url("/console/"))
    assert audit(page) == []


def test_the_audit_itself_finds_each_kind_of_problem(page) -> None:
    page.set_content("""<nav><a href="/x">X</a></nav><h1>One</h1><h3>Skipped</h3><h1>Two</h1>
        <input name="q"><p style="color:#bbb;background:#fff">faint</p><a href="#" tabindex="3"
        style="outline:none">bad focus</a><table><tr><th>head</th></tr></table>""")
    problems = audit(page)
    for expected in ("field without a label", "h1 count is 2", "heading h1 then h3", "th without scope",
                     "positive tabindex", "contrast", "no visible focus"):
        assert any(p.startswith(expected) for p in problems), (expected, problems)
