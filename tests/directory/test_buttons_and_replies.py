"""Account buttons and replies: a button of the other reset mode has expired; only credentials are sensitive."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.messages import Outcome
from integrations.directory.models import ResetLink
from tests.directory.conftest import try_bind
from tests.directory.helpers import START, add_person, audits, dn

pytestmark = pytest.mark.ldap


def test_button_of_the_other_reset_mode_has_expired(slapd, ldap_stack):
    add_person(slapd, "yara", ["yara@example.com"])
    old_temporary = ldap_stack.press("account.reset_temporary", user="slack:UYARA", email="yara@example.com")
    assert "expired" in old_temporary.text and "Temporary password" not in old_temporary.text
    assert try_bind(slapd.url, slapd.ca_file, dn("yara"), START)[0], "link mode: the password is untouched"
    temporary = ldap_stack.with_directory(reset_mode="temporary")
    old_link = temporary.press("account.reset_link", user="slack:UYARA", email="yara@example.com")
    assert "expired" in old_link.text and not any(b.url for b in old_link.buttons)
    with ldap_stack.services.db.session() as s:
        assert s.scalars(select(ResetLink).where(ResetLink.user_key == "slack:UYARA")).first() is None
    assert audits(ldap_stack, actor="slack:UYARA") == [], "nothing was even looked up"


def test_replies_without_a_credential_are_not_sensitive(slapd, ldap_stack):
    add_person(slapd, "vera", ["vera@example.com"])
    offer = ldap_stack.press("account.reset_start", user="slack:UVERA", email="vera@example.com")
    assert offer.outcome is Outcome.ACCOUNT_ACTION and not offer.sensitive
    cancel = ldap_stack.press("account.cancel", user="slack:UVERA", email="vera@example.com")
    assert not cancel.sensitive
