"""The reset page in a real headless browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import pytest

from integrations.directory import testing
from tests.directory.conftest import link_url, try_bind
from tests.leakcheck import register_secret

pytestmark = [pytest.mark.browser, pytest.mark.ldap, pytest.mark.slow]
# `browser`: the session's one Chromium (tests/conftest.py)


def test_phone_user_resets_with_keyboard_and_labels(browser, slapd, ldap_stack):
    weak, good = "Password123!", "Copper-Lantern-Drift-62"
    register_secret(weak, good)
    ldap_stack.press("account.reset_start", user="slack:UFRANK", email="frank@example.com")
    reply = ldap_stack.press("account.reset_link", user="slack:UFRANK", email="frank@example.com")
    url = link_url(reply)

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(url)
    assert page.get_by_role("heading", name="Choose a new password").is_visible()
    rules = page.locator("#rules")
    assert "At least 12 characters" in rules.inner_text()
    assert "common or previously breached" in rules.inner_text()
    # Fields are reachable by their labels (accessible names), and fit a phone screen.
    new_field, again_field = page.get_by_label("New password", exact=True), page.get_by_label("New password again")
    box = new_field.bounding_box()
    assert box and box["width"] <= 390 and box["x"] >= 0
    new_field.fill(weak)
    again_field.fill(weak)
    page.keyboard.press("Enter")  # keyboard submission
    page.wait_for_selector("#errors")
    assert "common or previously breached" in page.locator("#errors").inner_text()
    assert page.get_by_label("New password", exact=True).get_attribute("aria-invalid") == "true"

    page.get_by_label("New password", exact=True).fill(good)
    page.get_by_label("New password again").fill(good)
    page.get_by_role("button", name="Set my new password").click()
    page.wait_for_selector("#done")
    assert "Your new password is set" in page.locator("#done").inner_text()
    context.close()
    assert try_bind(slapd.url, slapd.ca_file, f"uid=frank,{testing.PEOPLE_BASE}", good)[0]


def test_the_page_works_under_its_strict_csp(browser, ldap_stack):
    """Chromium enforces the page's CSP: no violation is reported, the styles apply, the form posts."""
    ldap_stack.press("account.reset_start", user="slack:UCSP", email="olivia@example.com")
    url = link_url(ldap_stack.press("account.reset_link", user="slack:UCSP", email="olivia@example.com"))
    weak = "Password123!"
    register_secret(weak)
    context = browser.new_context()
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text))
    response = page.goto(url)
    assert response is not None and "unsafe-inline" not in response.headers["content-security-policy"]
    button = page.get_by_role("button", name="Set my new password")
    # the stylesheet is allowed by its hash: the button is styled (blue), not the browser's default grey
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 87, 208)"
    page.get_by_label("New password", exact=True).fill(weak)
    page.get_by_label("New password again").fill(weak)
    button.click()  # form-action 'self' lets the form post to its own page
    page.wait_for_selector("#errors")
    assert page.locator(".errors h2").evaluate("h => getComputedStyle(h).fontSize") != ""
    context.close()
    violations = [m for m in console if "Content Security Policy" in m or "Refused to" in m]
    assert violations == [], violations
