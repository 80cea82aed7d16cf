"""Every console page in Chromium, checked the way a screen-reader or keyboard user meets it: a label on every
field, one h1 and no skipped heading level, ``<th scope>`` in every table, ``aria-current`` on the nav entry of
the page, no positive tabindex, Tab reaching every stop in document order with a visible focus ring, and text
contrast of at least 4.5:1 (3:1 for large text), at 1280 px and at 390 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import ADMIN, NOBODY, ConsoleStack, sign_in
from tests.ticketing.conftest import press

AUDIT = (Path(__file__).parent / "a11y_audit.js").read_text(encoding="utf-8")
# A date or time field takes one Tab per part (day, month, year...), focus staying on the field
MULTI = "input[type=date], input[type=time], input[type=datetime-local], input[type=month], input[type=week]"
# The page's Tab stops in the order Tab must reach them (no positive tabindex: document order), worked out from the
# DOM: rendered, enabled controls and links, tabindex >= 0, the first summary of a details, one radio per group
# (the checked one, else the first), and Chromium's keyboard-focusable scrollers (a scroll container that can
# scroll and holds no stop of its own). Kept on window so each Tab can be matched against it.
TAB_STOPS = """multi => {
  const natural = 'a[href], area[href], button, input, select, textarea, summary, iframe, audio[controls], '
    + 'video[controls], [contenteditable=""], [contenteditable="true"], [tabindex]';
  const focusable = el => {
    if (!el.matches(natural) || el.disabled || el.closest('[inert], fieldset[disabled]')) return false;
    if (el.tagName === 'INPUT' && el.type === 'hidden') return false;
    if (el.hasAttribute('tabindex') && +el.getAttribute('tabindex') < 0) return false;
    if (el.tagName === 'SUMMARY' && !(el.parentElement.tagName === 'DETAILS'
        && el.parentElement.querySelector(':scope > summary') === el)) return false;
    if (el.tagName === 'INPUT' && el.type === 'radio' && el.name) {
      const group = [...(el.form || document).querySelectorAll('input[type=radio]')]
        .filter(r => r.name === el.name && !r.disabled && r.checkVisibility({visibilityProperty: true}));
      const checked = group.find(r => r.checked);
      if (el !== (checked || group[0])) return false;
    }
    return el.checkVisibility({visibilityProperty: true});
  };
  const scroller = el => {
    const s = getComputedStyle(el);
    const scrolls = (/(auto|scroll)/.test(s.overflowX) && el.scrollWidth > el.clientWidth)
      || (/(auto|scroll)/.test(s.overflowY) && el.scrollHeight > el.clientHeight);
    return scrolls && el.checkVisibility({visibilityProperty: true}) && !el.matches(natural)
      && ![...el.querySelectorAll('*')].some(focusable);
  };
  window.__tabStops = [...document.querySelectorAll('body *')].filter(el => focusable(el) || scroller(el));
  return [window.__tabStops.length, window.__tabStops.filter(el => el.matches(multi)).length];
}"""
# After one Tab: where focus is (its place among the stops, -1: elsewhere, null: left the page), the element when
# it shows no focus ring, and whether it is a field of several parts.
FOCUS = """multi => { const el = document.activeElement;
  if (!el || el === document.body) return [null, '', false];
  const s = getComputedStyle(el);
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1)
    || (s.boxShadow && s.boxShadow !== 'none');
  return [(window.__tabStops || []).indexOf(el), ring ? '' : el.outerHTML.slice(0, 120), el.matches(multi)]; }"""


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


def audit(page: Any) -> list[str]:
    """The page's problems; then Tab through all of its Tab stops: each shows a ring, and Tab reaches every one in
    document order, each once (a date field's parts aside) and nothing else, then leaves the page or wraps around."""
    problems: list[str] = page.evaluate(AUDIT)
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    stops, fields = page.evaluate(TAB_STOPS, MULTI)
    reached: list[int] = []
    for _ in range(stops + 1 + 8 * fields):
        page.keyboard.press("Tab")
        where, missing, parts = page.evaluate(FOCUS, MULTI)
        if missing:
            return [*problems, "no visible focus: " + missing]
        if parts and reached and reached[-1] == where:
            continue  # the next part of the same date field
        if where is None or (where == 0 and reached[:1] == [0]):
            break  # past the last stop: out of the page, or back round to the first
        reached.append(where)
    else:
        problems.append(f"Tab never left the page: {stops + 1 + 8 * fields} presses")
    if reached != list(range(stops)):
        problems.append(f"Tab reached stops {reached} of the {stops} in the page (-1: an element not among them)")
    return problems


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_is_labelled_ordered_keyboard_usable_and_readable(console_stack, paths, page, width) -> None:
    page.set_viewport_size({"width": width, "height": 844})
    # the phone run asks for dark mode: the console stays light (its area styles and charts are drawn for a light
    # surface), so it must stay readable rather than mix a dark page with light cards
    page.emulate_media(color_scheme="light" if width == 1280 else "dark")
    found: dict[str, list[str]] = {}
    page.goto(console_stack.url("/console/login"))
    found["/console/login"] = audit(page)
    sign_in(console_stack, page, ADMIN)
    for path in paths:
        page.goto(console_stack.url(path))
        found[path] = audit(page)
    page.goto(console_stack.url("/console/tryit"))
    page.get_by_label("Question").fill("How do I connect to the VPN from home?")
    page.get_by_role("button", name="Ask").click()
    page.wait_for_selector("text=The reply")
    found["/console/tryit (answered)"] = audit(page)
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


def test_the_tab_walk_finds_a_stop_out_of_order_and_a_keyboard_trap(page) -> None:
    page.set_content('<h1>Order</h1><a href="#a">A</a> <a href="#b" tabindex="2">B</a>')
    assert any(p.startswith("Tab reached stops [1, 0] of the 2") for p in audit(page)), audit(page)
    page.set_content("""<h1>Trap</h1><a href="#a">A</a> <label>Name <input id="trap"></label> <a href="#b">B</a>
        <script>document.getElementById('trap').addEventListener('keydown', e => {
          if (e.key === 'Tab') e.preventDefault(); });</script>""")
    problems = audit(page)
    assert any(p.startswith("Tab reached stops [0, 1, 1") for p in problems), problems
    page.set_content('''<style>input:focus-within { outline: 3px solid #1a73e8; }</style><h1>Fine</h1>
        <a href="#a">A</a> <label>When <input type="date"></label> <button>Go</button>''')
    assert audit(page) == []  # a date field's parts are one stop
