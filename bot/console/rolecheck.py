"""A live session's roles, checked again at most every ``console.role_check_seconds`` (0: every request).

The first request after the interval works the roles out with the sign-in rule (``bot.console.roles``),
stores them on the session and uses them for itself. When the directory cannot be asked, the roles the
session had from groups are kept for one more check at most, never more than before: the check after
that (if the directory still cannot be asked) leaves the configured e-mail roles only, as a sign-in would.
A change of roles is recorded in the console's action log (``roles.change``: who, from, to, when).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, update

from bot.console import audit
from bot.console.models import ConsoleSession
from bot.console.roles import Resolved, resolve
from bot.services import Services
from bot.storage.base import utcnow

log = logging.getLogger(__name__)
ACTION = "roles.change"
ACTOR = "role-check"  # the console itself, not the person whose roles changed (that is the target)


@dataclass(frozen=True)
class SessionRoles:
    """What a role check needs from a session row (read in one transaction, used after it)."""

    session_id: int
    email: str
    roles: frozenset[str]
    checked_at: dt.datetime | None  # None: not checked since sign-in
    created_at: dt.datetime
    failed_at: dt.datetime | None

    @classmethod
    def of(cls, row: ConsoleSession) -> SessionRoles:
        return cls(row.id, row.email, frozenset(row.roles.split()), row.roles_checked_at, row.created_at,
                   row.roles_failed_at)


def due(seconds: int, seen: SessionRoles, now: dt.datetime) -> bool:
    """Whether this session's roles must be worked out again now."""
    return now - (seen.checked_at or seen.created_at) >= dt.timedelta(seconds=seconds)


def decide(previous: frozenset[str], resolved: Resolved, group_roles: frozenset[str],
           failed_before: bool) -> frozenset[str]:
    """The failure policy: the roles to use after a check (a failed directory never adds a role).

    Directory fine → exactly ``resolved``. Directory failing for the first check in a row → ``resolved``
    (the configured e-mails) plus the previous roles a group could have given. Failing again → ``resolved``.
    """
    if not resolved.directory_failed or failed_before:
        return resolved.roles
    return resolved.roles | (previous & group_roles)


def current_roles(services: Services, seen: SessionRoles, now: dt.datetime | None = None) -> frozenset[str]:
    """This request's roles: the stored ones, or (when the check is due) worked out again and stored."""
    now = now or utcnow()
    cfg = services.settings.console
    if not due(cfg.role_check_seconds, seen, now):
        return seen.roles
    resolved = resolve(services, seen.email)  # outside any transaction: the directory may be slow
    group_roles = frozenset(role for role, _ in cfg.group_roles())
    roles = decide(seen.roles, resolved, group_roles, seen.failed_at is not None)
    failed_at = (seen.failed_at or now) if resolved.directory_failed else None
    if resolved.directory_failed:
        kept = sorted(roles - resolved.roles)
        log.warning("console roles of %s: the directory could not be asked; %s", seen.email,
                    f"keeping {', '.join(kept)} from groups until the next check" if kept
                    else "using the configured e-mail roles only")
    with services.db.session() as db:
        same = (ConsoleSession.roles_checked_at.is_(None) if seen.checked_at is None
                else ConsoleSession.roles_checked_at == seen.checked_at)
        result = cast(CursorResult[Any], db.execute(
            update(ConsoleSession).where(ConsoleSession.id == seen.session_id, same)
            .values(roles=" ".join(sorted(roles)), roles_checked_at=now, roles_failed_at=failed_at)))
        if result.rowcount != 1:  # another request of this session checked first: use what it stored
            row = db.get(ConsoleSession, seen.session_id)
            return frozenset(row.roles.split()) if row is not None else frozenset()
        if roles != seen.roles:
            audit.record(db, actor=ACTOR, action=ACTION, target=seen.email,
                         details={"from": sorted(seen.roles), "to": sorted(roles), "session": seen.session_id,
                                  "directory": "unreachable" if resolved.directory_failed else "ok"})
    if roles != seen.roles:
        log.info("console roles of %s changed: %s -> %s", seen.email, ",".join(sorted(seen.roles)) or "none",
                 ",".join(sorted(roles)) or "none")
    return roles
