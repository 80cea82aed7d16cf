"""A live session's roles are checked again at most every console.role_check_seconds: real HTTP against a served
console; the configured e-mails changed by a restart over the same database (sessions survive it) or in the
running process, and directory groups changed in a real slapd (and slapd stopped for the failure policy)."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import shutil
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.config.console import ConsoleSettings
from bot.console import sessions
from bot.console.models import ConsoleAction, ConsoleSession
from bot.console.rolecheck import decide
from bot.console.roles import Resolved
from bot.errors import ConfigError
from tests.console.conftest import ConsoleClient, ConsoleStack, build_console_stack

CHECK = 300
TINA, OLA = "tina.rc@example.com", "ola.rc@example.com"
TRAINER_PAGE, STAFF_PAGE = "/console/intents", "/console/health"


def session_of(stack: ConsoleStack, client: ConsoleClient) -> ConsoleSession:
    with stack.db.session() as db:
        row = db.scalars(select(ConsoleSession).where(
            ConsoleSession.token_hash == sessions.digest(client.cookies["helpdesk_console"]))).one()
        db.expunge(row)
        return row


def interval_passes(stack: ConsoleStack, client: ConsoleClient, seconds: int = CHECK) -> None:
    """Pretend the last role check of this client's session was ``seconds`` ago."""
    row = session_of(stack, client)
    with stack.db.session() as db:
        db.execute(update(ConsoleSession).where(ConsoleSession.id == row.id).values(
            roles_checked_at=(row.roles_checked_at or row.created_at) - dt.timedelta(seconds=seconds)))


def role_changes(stack: ConsoleStack, email: str) -> list[tuple[list[str], list[str], str]]:
    with stack.db.session() as db:
        rows = db.scalars(select(ConsoleAction).where(ConsoleAction.action == "roles.change",
                                                      ConsoleAction.target == email).order_by(ConsoleAction.id))
        return [(r.details["from"], r.details["to"], r.details["directory"]) for r in rows]


def status(client: ConsoleClient, path: str) -> int:
    return client.get(path).status_code


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    with build_console_stack(tmp_path_factory.mktemp("console-rc"), import_kb=False, role_check_seconds=CHECK,
                             trainers=[TINA]) as served:
        yield served


@pytest.fixture
def console(stack: ConsoleStack) -> Iterator[ConsoleSettings]:
    """The running console's settings, put back as they were after the test."""
    cfg = stack.settings.console
    saved = {k: getattr(cfg, k) for k in ("trainers", "it_staff", "admins", "role_check_seconds")}
    yield cfg
    for key, value in saved.items():
        setattr(cfg, key, value)


def test_a_trainer_removed_from_the_configured_trainers_is_refused_after_the_interval(tmp_path: Path) -> None:
    with build_console_stack(tmp_path, import_kb=False, role_check_seconds=CHECK, trainers=[TINA]) as before:
        tina = before.client(TINA)
        assert status(tina, TRAINER_PAGE) == 200
    cookie = tina.cookies["helpdesk_console"]
    tina.close()
    # the operator takes Tina off the list and restarts; her session (in the database) outlives the restart
    with build_console_stack(tmp_path, import_kb=False, role_check_seconds=CHECK, trainers=[]) as after, \
            after.client() as tina:
        tina.cookies.set("helpdesk_console", cookie, path="/console")
        interval_passes(after, tina, CHECK - 5)
        assert status(tina, TRAINER_PAGE) == 200  # not before the interval
        assert session_of(after, tina).roles == "trainer"
        interval_passes(after, tina, 5)
        refused = tina.get(TRAINER_PAGE)
        assert refused.status_code == 403 and "no console role" in refused.text
        assert status(tina, "/console/") == 403  # stored: every page, not just the one that noticed
        assert session_of(after, tina).ended_at is None  # still signed in (sign-out, CSRF work as before)
        out = tina.post("/console/logout", headers={"X-CSRF-Token": sessions.csrf_for(cookie)})
        assert out.status_code == 303
        assert role_changes(after, TINA) == [(["trainer"], [], "ok")]


def test_a_new_admin_gets_every_page_without_signing_in_again(stack, console) -> None:
    with stack.client(OLA) as ola:
        assert status(ola, "/console/") == 403
        console.admins = [OLA]
        assert status(ola, STAFF_PAGE) == 403  # the interval has not passed
        interval_passes(stack, ola)
        assert status(ola, STAFF_PAGE) == 200  # the very request that noticed
        assert status(ola, TRAINER_PAGE) == 200 and "Administrator" in ola.get("/console/").text
        assert role_changes(stack, OLA)[-1] == ([], ["admin"], "ok")
        checks = len(role_changes(stack, OLA))
        interval_passes(stack, ola)
        assert status(ola, STAFF_PAGE) == 200
        assert len(role_changes(stack, OLA)) == checks  # checked again, nothing changed: nothing logged


def test_with_zero_seconds_every_request_checks(stack, console) -> None:
    console.role_check_seconds = 0
    console.it_staff = [*console.it_staff, "sam.rc@example.com"]
    with stack.client("sam.rc@example.com") as sam:
        assert status(sam, STAFF_PAGE) == 200
        console.it_staff = [e for e in console.it_staff if e != "sam.rc@example.com"]
        assert status(sam, STAFF_PAGE) == 403


def test_the_setting_comes_from_the_file_or_the_environment(tmp_path: Path) -> None:
    from bot.config import load_settings

    path = tmp_path / "helpdesk.toml"
    path.write_text("[console]\nrole_check_seconds = 60\n")
    assert load_settings(path, environ={}).console.role_check_seconds == 60
    assert load_settings(path, environ={"HELPDESK_CONSOLE__ROLE_CHECK_SECONDS": "0"}).console.role_check_seconds == 0
    (tmp_path / "empty.toml").touch()
    assert load_settings(tmp_path / "empty.toml", environ={}).console.role_check_seconds == 300
    path.write_text("[console]\nrole_check_seconds = -1\n")
    with pytest.raises(ConfigError, match=r"console\.role_check_seconds"):
        load_settings(path, environ={})


def test_a_failed_directory_never_adds_a_role() -> None:
    """Every combination: the result is within the previous roles plus the configured e-mail roles, and a
    second failure in a row leaves the configured e-mail roles only."""
    roles = ("trainer", "it-staff", "admin")
    subsets = [frozenset(c) for n in range(4) for c in itertools.combinations(roles, n)]
    for previous, emails, groups in itertools.product(subsets, subsets, subsets):
        failed = Resolved(emails, directory_failed=True)
        first = decide(previous, failed, groups, failed_before=False)
        assert emails <= first <= previous | emails
        assert first - emails <= groups  # only what a group could have given is carried over
        assert decide(previous, failed, groups, failed_before=True) == emails
        assert decide(previous, Resolved(emails), groups, failed_before=True) == emails


# ------------------------------------------------------------------------------------------- directory groups
GROUPS = "ou=groups,dc=example,dc=com"
STAFF_GROUP, ADMINS_GROUP = f"cn=staff,{GROUPS}", f"cn=it-admins,{GROUPS}"


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from integrations.directory import testing
    from tests.leakcheck import register_secret

    if shutil.which("slapd") is None or shutil.which("slapadd") is None:
        pytest.skip("slapd is not installed (apt-get install slapd ldap-utils)")
    register_secret(testing.ROOT_PASSWORD, testing.BOT_PASSWORD)
    server = testing.Slapd(tmp_path_factory.mktemp("console-rc-slapd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dir_stack(tmp_path_factory: pytest.TempPathFactory, slapd: Any) -> Iterator[ConsoleStack]:
    with build_console_stack(tmp_path_factory.mktemp("console-rc-dir"), import_kb=False, role_check_seconds=CHECK,
                             trainers=[], it_staff=[], admins=[], trainer_groups=[STAFF_GROUP],
                             admin_groups=[ADMINS_GROUP], sections={"directory": slapd.settings()}) as served:
        yield served


def membership(slapd: Any, group: str, uid: str, *, member: bool) -> None:
    """Add or remove a person in a group, as the directory's administrator."""
    import ldap3

    from integrations.directory import testing

    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(slapd.ca_file))
    server = ldap3.Server("127.0.0.1", port=slapd.tls_port, use_ssl=True, tls=tls, get_info=ldap3.NONE)
    conn = ldap3.Connection(server, user=testing.ROOT_DN, password=testing.ROOT_PASSWORD, auto_bind=True)
    try:
        change = ldap3.MODIFY_ADD if member else ldap3.MODIFY_DELETE
        conn.modify(group, {"member": [(change, [f"uid={uid},{testing.PEOPLE_BASE}"])]})
        assert conn.result["result"] == 0, conn.result
    finally:
        conn.unbind()


@pytest.mark.ldap
def test_group_changes_reach_a_live_session(dir_stack, slapd) -> None:
    with dir_stack.client("alice@example.com") as alice:
        assert (status(alice, TRAINER_PAGE), status(alice, STAFF_PAGE)) == (200, 403)  # staff group: trainer
        membership(slapd, ADMINS_GROUP, "alice", member=True)
        membership(slapd, STAFF_GROUP, "alice", member=False)
        try:
            assert status(alice, STAFF_PAGE) == 403  # not before the interval
            interval_passes(dir_stack, alice)
            assert status(alice, STAFF_PAGE) == 200  # now an administrator, same session
            assert role_changes(dir_stack, "alice@example.com") == [(["trainer"], ["admin"], "ok")]
            membership(slapd, ADMINS_GROUP, "alice", member=False)
            interval_passes(dir_stack, alice)
            assert status(alice, TRAINER_PAGE) == 403
        finally:
            membership(slapd, STAFF_GROUP, "alice", member=True)


@pytest.mark.ldap
def test_directory_down_keeps_the_group_roles_for_one_more_check_then_refuses(dir_stack, slapd, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="bot.console.rolecheck")
    with dir_stack.client("bob@example.com") as bob:
        assert status(bob, TRAINER_PAGE) == 200
        slapd.stop()
        try:
            interval_passes(dir_stack, bob)
            assert status(bob, TRAINER_PAGE) == 200  # first check that cannot ask: the last known roles, once
            assert "keeping trainer from groups until the next check" in caplog.text
            assert status(bob, TRAINER_PAGE) == 200  # and for the whole interval
            interval_passes(dir_stack, bob)
            assert status(bob, TRAINER_PAGE) == 403  # still down one interval later: no role from groups
        finally:
            slapd.start()
        interval_passes(dir_stack, bob)
        assert status(bob, TRAINER_PAGE) == 200  # back: the groups count again
        assert session_of(dir_stack, bob).roles_failed_at is None
    assert role_changes(dir_stack, "bob@example.com") == [(["trainer"], [], "unreachable"), ([], ["trainer"], "ok")]
