"""The one-time reset page: accounts with several addresses, and per-link request limits."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from integrations.directory.models import RateCounter
from tests.directory.conftest import try_bind
from tests.directory.helpers import add_person, dn, form_csrf
from tests.leakcheck import register_secret

pytestmark = pytest.mark.ldap


def test_account_with_several_mail_values_can_finish_a_reset(slapd, ldap_stack):
    add_person(slapd, "wendy", ["wendy.smith@example.com", "wendy@example.com"])
    new = "Amber-Orchard-Tide-73"
    register_secret(new)
    url = ldap_stack.reset_link("wendy", "slack:UWENDY")  # wendy@example.com: not the first mail value
    with httpx.Client() as web:
        page = web.get(url)
        done = web.post(url, data={"csrf": form_csrf(page.text), "password": new, "confirm": new})
    assert done.status_code == 200 and "Password changed" in done.text, done.text
    assert try_bind(slapd.url, slapd.ca_file, dn("wendy"), new)[0]


def test_a_live_link_is_limited_on_its_own_not_by_a_shared_address(slapd, ldap_stack):
    add_person(slapd, "uma", ["uma@example.com"])
    with ldap_stack.served_with(reset_page_requests_per_hour=3) as stack:
        url = stack.reset_link("uma", "slack:UUMA")
        # Someone behind the same proxy address guesses tokens until the address is limited...
        for i in range(6):
            httpx.get(f"{stack.base_url}/reset/uma-guess-{i}")
        assert httpx.get(f"{stack.base_url}/reset/uma-guess-x").status_code == 429
        # ...which does not lock the employee out of their own link, which has its own limit.
        codes = [httpx.get(url).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    with ldap_stack.services.db.session() as s:
        keys = [k for k in s.scalars(select(RateCounter.key)) if k.startswith("reset_page_link:")]
    assert keys and not any("uma" in k for k in keys), "the bucket is keyed on the token's hash"
