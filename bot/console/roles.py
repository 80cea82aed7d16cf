"""A console user's roles: from the configured e-mail lists and, with a directory, its groups.

One rule, used at sign-in and when a live session's roles are checked again (``bot.console.rolecheck``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.errors import HelpdeskError
from bot.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resolved:
    """The roles worked out now, and whether the directory was needed but could not be asked."""

    roles: frozenset[str]
    directory_failed: bool = False


def resolve(services: Services, email: str) -> Resolved:
    """The roles of ``email`` now: its configured e-mail roles plus its groups' (a failed directory adds none)."""
    cfg = services.settings.console
    roles = cfg.email_roles(email)
    pairs = [(role, dn) for role, dn in cfg.group_roles() if role not in roles]
    if not pairs or not services.settings.directory.configured:
        return Resolved(frozenset(roles))
    directory = services.directory
    if directory is None:
        return Resolved(frozenset(roles))
    found: set[str] = set()
    try:
        account = directory.find_by_email(email)
        if account is not None:
            for role, dn in pairs:
                if role not in found and directory.is_member(account, dn):
                    found.add(role)
    except HelpdeskError as exc:
        log.warning("console roles of %s: the directory could not be asked (%s); no role from groups",
                    email.lower(), exc.detail or exc.user_message)
        return Resolved(frozenset(roles), directory_failed=True)
    return Resolved(frozenset(roles | found))


def roles_for(services: Services, email: str) -> set[str]:
    """The roles of ``email`` at sign-in (a directory that cannot be asked adds none)."""
    return set(resolve(services, email).roles)
