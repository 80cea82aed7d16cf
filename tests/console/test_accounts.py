"""The account actions page: the directory audit log (who, what, when, result; never a password),
filterable, and the lockout watch's alarms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from html import unescape

import pytest

from tests.console.conftest import STAFF, TRAINER, ConsoleStack, build_console_stack
from tests.leakcheck import register_secret

PASSWORD = "Copper-Lantern-Drift-62"
BIND_PASSWORD = "bind-secret-for-console-tests-7"
# a directory that is configured (never reached: the page reads the audit table only)
DIRECTORY = {"kind": "openldap", "url": "ldaps://ldap.example.invalid", "bind_dn": "cn=helpdesk,dc=example,dc=com",
             "bind_password": BIND_PASSWORD, "base_dn": "dc=example,dc=com", "watch_lockouts": True,
             "lockout_alarm_threshold": 3, "lockout_alarm_window_minutes": 15}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    with build_console_stack(tmp_path_factory.mktemp("accounts"), import_kb=False,
                             sections={"directory": DIRECTORY}) as served:
        yield served


def audit_rows(html: str) -> list[list[str]]:
    table = re.search(r'<table class="tk-table" id="ac-audit">.*?</table>', html, re.S)
    if table is None:
        return []
    return [[unescape(c).strip() for c in re.findall(r"<td[^>]*>(?:<[^>]+>)*([^<]*)", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S) if "<td" in row]


def test_the_audit_log_lists_unlocks_and_resets_without_any_password(stack: ConsoleStack) -> None:
    from integrations.directory import audit

    register_secret(PASSWORD)
    with stack.db.session() as session:
        audit.record(session, actor="slack:W222", action="unlock", result="ok", email="dana.lee@example.com",
                     account="uid=dana,ou=people,dc=example,dc=com")
        audit.record(session, actor="slack:U111", action="reset", result="refused", email="uma.chen@example.com",
                     account="uid=uma,ou=people,dc=example,dc=com",
                     detail=f"policy refused the new password: password={PASSWORD}")
        audit.record(session, actor="slack:U111", action="lookup", result="not_found", email="nobody@example.com")
    with closing(stack.client(STAFF)) as client:
        everything = client.get("/console/accounts").text
        unlocks = client.get("/console/accounts", params={"action": "unlock"}).text
        uma = client.get("/console/accounts", params={"actor": "slack:U111"}).text
    rows = audit_rows(everything)
    assert [r[1:5] for r in rows] == [
        ["slack:U111", "nobody@example.com", "lookup", "not_found"],
        ["slack:U111", "uid=uma,ou=people,dc=example,dc=com", "reset", "refused"],
        ["slack:W222", "uid=dana,ou=people,dc=example,dc=com", "unlock", "ok"]]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[0][0])
    assert PASSWORD not in everything and "policy refused the new password" in everything
    assert [r[3] for r in audit_rows(unlocks)] == ["unlock"]
    assert {r[1] for r in audit_rows(uma)} == {"slack:U111"} and len(audit_rows(uma)) == 2


def test_lockout_alarms_and_locked_accounts_are_shown(stack: ConsoleStack) -> None:
    from integrations.directory import audit

    with stack.db.session() as session:
        for name in ("ann", "ben", "cy"):
            audit.record(session, actor="watcher", action="lockout_seen", result="locked",
                         email=f"{name}@example.com", account=f"uid={name},ou=people,dc=example,dc=com")
        audit.record(session, actor="watcher", action="lockout_alarm", result="raised",
                     detail="3 lockouts in 15 min")
    with closing(stack.client(STAFF)) as client:
        html = client.get("/console/accounts").text
    alarms = re.search(r'<ul class="tk-alarms" id="ac-alarms">(.*?)</ul>', html, re.S)
    assert alarms and "3 lockouts in 15 min" in alarms.group(1)
    locked = re.search(r'<ul id="ac-locked">(.*?)</ul>', html, re.S)
    assert locked and all(f"uid={n}," in locked.group(1) for n in ("ann", "ben", "cy"))
    assert "3 or more accounts lock within 15 minutes" in html and BIND_PASSWORD not in html


def test_a_trainer_cannot_read_the_audit_log(stack: ConsoleStack) -> None:
    with closing(stack.client(TRAINER)) as client:
        refused = client.get("/console/accounts")
    assert refused.status_code == 403 and "ac-audit" not in refused.text
