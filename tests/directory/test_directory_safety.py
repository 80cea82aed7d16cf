"""TLS, least privilege, person details, the CLI and the password rules."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import ldap3
import pytest
from typer.testing import CliRunner

from bot.errors import ConfigError, DirectoryError, NotPermittedError
from integrations.directory import testing
from integrations.directory.client import Account
from integrations.directory.openldap import OpenLdapDirectory
from integrations.directory.policy import PasswordRules, check_password, generate_temporary
from integrations.directory.settings import DirectorySettings
from tests.directory.conftest import tls_server
from tests.leakcheck import register_secret

P = testing.PEOPLE_BASE


def client(slapd, **overrides) -> OpenLdapDirectory:
    return OpenLdapDirectory(DirectorySettings(**slapd.settings(**overrides)))


# ---------------------------------------------------------------------------- TLS
@pytest.mark.ldap
def test_plain_ldap_is_refused_unless_explicitly_insecure(slapd, caplog):
    with pytest.raises(ConfigError, match="without start_tls"):
        client(slapd, url=slapd.plain_url)
    with caplog.at_level(logging.WARNING):
        insecure = client(slapd, url=slapd.plain_url, allow_insecure=True)
    assert any("INSECURE" in r.getMessage() for r in caplog.records)
    assert insecure.find_by_email("alice@example.com").login == "alice"


@pytest.mark.ldap
def test_start_tls_with_the_configured_ca(slapd):
    directory = client(slapd, url=slapd.plain_url, start_tls=True)
    assert directory.find_by_email("bob@example.com").login == "bob"


@pytest.mark.ldap
def test_certificate_from_another_ca_is_rejected(slapd, tmp_path):
    other_ca, _, _ = testing.make_pki(tmp_path / "other")
    directory = client(slapd, ca_file=str(other_ca))
    with pytest.raises(DirectoryError) as err:
        directory.ping()
    assert "not reachable" in err.value.user_message
    with pytest.raises(DirectoryError):
        client(slapd, url=slapd.plain_url, start_tls=True, ca_file=str(other_ca)).ping()


@pytest.mark.ldap
def test_wrong_service_password_is_a_directory_error_without_the_password(slapd):
    register_secret("Not-The-Bot-Password-1")
    with pytest.raises(DirectoryError) as err:
        client(slapd, bind_password="Not-The-Bot-Password-1").ping()
    assert "Not-The-Bot-Password-1" not in f"{err.value} {err.value.detail}"


# ---------------------------------------------------------------------------- least privilege
@pytest.mark.ldap
def test_service_account_cannot_touch_admins_or_other_attributes(slapd):
    directory = client(slapd)
    admin = Account(dn=f"uid=sysadmin,ou=admins,{testing.BASE_DN}", login="sysadmin",
                    email="sysadmin@example.com", display_name="Sam Admin")
    register_secret("Forbidden-Reset-Attempt-55")
    with pytest.raises(NotPermittedError):
        directory.set_password(admin, "Forbidden-Reset-Attempt-55", must_change=False)
    conn = ldap3.Connection(tls_server(slapd.url, slapd.ca_file), user=testing.BOT_DN,
                            password=testing.BOT_PASSWORD, auto_bind=True)
    assert not conn.modify(f"uid=alice,{P}", {"title": [(ldap3.MODIFY_REPLACE, ["CEO"])]})
    assert conn.result["description"] == "insufficientAccessRights"
    conn.unbind()


@pytest.mark.ldap
def test_person_details_for_tickets(slapd):
    directory = client(slapd)
    assert directory.person_details("alice@example.com") == {
        "name": "Alice Nguyen", "email": "alice@example.com", "department": "Finance",
        "title": "Accountant", "location": "Berlin", "manager": "Bob Martin <bob@example.com>"}
    assert directory.person_details("nobody@example.com") is None
    assert directory.person_details("*") is None


def test_person_details_never_fail_a_ticket(tmp_path):
    unreachable = OpenLdapDirectory(DirectorySettings(
        kind="openldap", url=f"ldaps://127.0.0.1:{testing.free_port()}", bind_dn="cn=x", bind_password="y",
        base_dn="dc=example,dc=com", timeout_seconds=1))
    assert unreachable.person_details("alice@example.com") is None


# ---------------------------------------------------------------------------- CLI
@pytest.mark.ldap
def test_helpdesk_audit_lists_actions_as_json(ldap_stack, tmp_path):
    from bot.cli import app

    ldap_stack.press("account.check", user="slack:UAUDIT", email="trent@example.com")
    config = tmp_path / "helpdesk.toml"
    config.write_text(f'[database]\nurl = "{ldap_stack.settings.database.url.get_secret_value()}"\n')
    result = CliRunner().invoke(app, ["--config", str(config), "audit", "--json", "--actor", "slack:UAUDIT"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and rows[0]["action"] == "lookup_unlock" and rows[0]["result"] == "ok"
    assert rows[0]["account"] == f"uid=trent,{P}" and rows[0]["when"].endswith("Z")
    table = CliRunner().invoke(app, ["--config", str(config), "audit", "--limit", "5"])
    assert table.exit_code == 0 and "Directory audit log" in table.output and "lookup" in table.output


@pytest.mark.ldap
def test_dev_directory_starts_a_seeded_server(tmp_path):
    from bot.cli import app

    result = CliRunner().invoke(app, ["dev", "directory", "--once", "--json", "--workdir", str(tmp_path / "dev")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{"):])
    assert data["directory"]["url"].startswith("ldaps://127.0.0.1:")
    assert Path(data["directory"]["ca_file"]).is_file()


# ---------------------------------------------------------------------------- password rules
ALICE = Account(dn=f"uid=alice,{P}", login="alice", email="alice@example.com", display_name="Alice Nguyen",
                given_name="Alice", surname="Nguyen")


@pytest.mark.parametrize("password,problem", [
    ("Short-1a", "shorter than 12"),
    ("alllowercaseletters", "kinds of characters"),
    ("Nguyen-Rocks-2024", "your name"),
    ("Alice.Strong#Pass9", "your name"),
    ("P@ssw0rd2024!", "common or previously breached"),
    ("Qwertyuiop123", "common or previously breached"),
])
def test_weak_passwords_are_explained(password, problem):
    problems = check_password(password, password, ALICE, PasswordRules())
    assert any(problem in p for p in problems), problems


def test_good_passwords_and_passphrases_pass():
    rules = PasswordRules()
    assert check_password("Copper-Lantern-Drift-62", "Copper-Lantern-Drift-62", ALICE, rules) == []
    assert check_password("orange kettle violin marathon", "orange kettle violin marathon", ALICE, rules) == []
    assert "not the same" in check_password("Copper-Lantern-Drift-62", "Copper-Lantern-Drift-63", ALICE, rules)[0]


def test_temporary_passwords_satisfy_the_rules():
    for _ in range(20):
        value = generate_temporary(16)
        assert len(value) == 16 and check_password(value, value, ALICE, PasswordRules()) == []
