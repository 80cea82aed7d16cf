"""The lockout watch: a DM offering the unlock, one alarm per lockout storm, its interval and housekeeping."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import delete, select

from bot.storage.models import Notification
from integrations.directory import testing
from integrations.directory.models import DirectoryAudit, RateCounter
from integrations.directory.notices import LockoutSeen, LockoutStorm
from tests.directory.conftest import lock_by_failed_binds
from tests.directory.helpers import add_person, dn

P = testing.PEOPLE_BASE


@pytest.mark.ldap
def test_watcher_offers_an_unlock_and_raises_one_alarm(slapd, ldap_stack, caplog):
    # mallory talked to the bot before, so the bot knows her chat identity
    ldap_stack.press("account.check", user="slack:UMAL", email="mallory@example.com")
    lock_by_failed_binds(slapd.url, slapd.ca_file, f"uid=mallory,{P}")
    stack = ldap_stack.with_directory(watch_lockouts=True, lockout_alarm_threshold=1, watch_interval_seconds=0)
    with caplog.at_level(logging.ERROR):
        assert stack.watch_once() >= 1
        assert stack.watch_once() == 0  # already seen: no second DM
    with stack.services.db.session() as s:
        notes = s.scalars(select(Notification).where(Notification.user_key == "slack:UMAL")).all()
        assert len(notes) == 1
        assert notes[0].reply["private"] and notes[0].reply["buttons"][0]["action_id"] == "account.check"
        alarms = s.scalars(select(DirectoryAudit).where(DirectoryAudit.action == "lockout_alarm")).all()
        assert len(alarms) == 1
    assert any("LOCKOUT ALARM" in r.getMessage() for r in caplog.records)
    # the DM's button leads to the unlock offer
    reply = ldap_stack.press("account.check", user="slack:UMAL", email="mallory@example.com")
    assert "is locked" in reply.text


def test_watcher_is_idle_without_a_directory(make_settings, sqlite_url):
    from bot.services import Services
    from integrations.directory.watch import run_once

    services = Services(make_settings(sqlite_url))
    assert run_once(services.db, lambda: services.directory, services.settings.directory, services.notices) == 0


def test_each_new_configuration_gets_its_own_round(make_settings, database_url, migrated_db):
    """A reloaded configuration runs at once, even when Python gives it the address of the freed old one."""
    from bot.services import Services
    from integrations.directory.watch import run_once

    services = Services(make_settings(database_url), migrated_db)
    rounds: list[int] = []

    def directory() -> None:
        rounds.append(1)

    base = services.settings.directory
    for _ in range(20):
        settings = base.model_copy(update={"kind": "openldap", "watch_lockouts": True, "watch_interval_seconds": 3600})
        assert run_once(services.db, directory, settings, services.notices) == 0
        assert run_once(services.db, directory, settings, services.notices) == 0  # same one: within its interval
        del settings
    assert len(rounds) == 20


@pytest.mark.ldap
def test_watcher_runs_at_most_every_interval_and_purges_old_state(slapd, ldap_stack):
    with ldap_stack.services.db.session() as s:
        s.add(RateCounter(key="unlock:slack:UOLD", window_start=dt.datetime(2000, 1, 1), count=3))
    lock_by_failed_binds(slapd.url, slapd.ca_file, f"uid=victor,{P}")
    stack = ldap_stack.with_directory(watch_lockouts=True, watch_interval_seconds=3600)
    first = stack.watch_once()
    assert first >= 1
    lock_by_failed_binds(slapd.url, slapd.ca_file, f"uid=olivia,{P}")
    assert stack.watch_once() == 0  # within the interval: no second LDAP search
    with ldap_stack.services.db.session() as s:
        assert s.scalars(select(RateCounter).where(RateCounter.key == "unlock:slack:UOLD")).first() is None


@pytest.mark.ldap
def test_two_replicas_seeing_one_lockout_send_one_dm(slapd, ldap_stack):
    add_person(slapd, "quinn", ["quinn@example.com"])
    ldap_stack.press("account.check", user="slack:UQUINN", email="quinn@example.com")
    lock_by_failed_binds(slapd.url, slapd.ca_file, dn("quinn"))
    replica_a = ldap_stack.with_directory(watch_lockouts=True, watch_interval_seconds=0)
    replica_b = ldap_stack.with_directory(watch_lockouts=True, watch_interval_seconds=0)
    assert replica_a.watch_once() >= 1
    # Replica B checked "seen?" before A committed: it does not find A's marker either.
    with ldap_stack.services.db.session() as s:
        s.execute(delete(DirectoryAudit).where(DirectoryAudit.action == "lockout_seen"))
    assert replica_b.watch_once() >= 1
    with ldap_stack.services.db.session() as s:
        notes = s.scalars(select(Notification).where(Notification.user_key == "slack:UQUINN")).all()
    assert len(notes) == 1, "one lockout, one DM, however many replicas notice it"


def test_lockout_notices_become_the_employees_dm_and_its_alarm(make_settings, database_url, migrated_db):
    """The watch's neutral notices, through the bot's sink: the DM's texts and buttons, the alarm to IT."""
    from bot.services import Services

    services = Services(make_settings(database_url, slack={"triage_channel": "#it-triage"}), migrated_db)
    seen = LockoutSeen(user_key="slack:UNOTE", email="note@example.com", login="note", dedupe_key="lockout:k1")
    storm = LockoutStorm(count=12, window_minutes=10, dedupe_key="lockout-alarm:b1")
    with migrated_db.session() as s:
        for notice in (seen, storm, seen):  # the same lockout twice: one DM
            services.notices.publish(s, notice)
    with migrated_db.session() as s:
        notes = {n.user_key: n for n in s.scalars(select(Notification))}
    assert set(notes) == {"slack:UNOTE", "slack:it-triage"}
    dm = notes["slack:UNOTE"]
    assert dm.reply["text"] == ("Your account *note* has just been locked (too many wrong passwords). If that "
                                "was you, I can unlock it now. If it wasn't you, tell IT.")
    assert dm.reply["private"] and dm.dedupe_key == "lockout:k1" and dm.email == "note@example.com"
    assert [(b["action_id"], b["value"]) for b in dm.reply["buttons"]] == [
        ("account.check", {}), ("ticket.open", {"summary": "My account was locked and it wasn't me"})]
    alarm = notes["slack:it-triage"]
    assert alarm.dedupe_key == "lockout-alarm:b1"
    assert alarm.reply["text"] == (":rotating_light: 12 accounts were locked out in the last 10 minutes — "
                                   "possible password spraying. See `helpdesk audit --action lockout_seen`.")
