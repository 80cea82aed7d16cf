"""A console user's roles: from the configured e-mail lists and, with a directory, its groups."""

from __future__ import annotations

import logging

from bot.errors import HelpdeskError
from bot.services import Services

log = logging.getLogger(__name__)


def roles_for(services: Services, email: str) -> set[str]:
    """The roles of ``email`` now (resolved at sign-in; a directory that cannot be asked adds none)."""
    cfg = services.settings.console
    roles = cfg.email_roles(email)
    pairs = [(role, dn) for role, dn in cfg.group_roles() if role not in roles]
    if not pairs or not services.settings.directory.configured:
        return roles
    directory = services.directory
    if directory is None:
        return roles
    try:
        account = directory.find_by_email(email)
        if account is not None:
            for role, dn in pairs:
                if role not in roles and directory.is_member(account, dn):
                    roles.add(role)
    except HelpdeskError as exc:
        log.warning("console roles: the directory could not be asked (%s); using e-mail roles only",
                    exc.detail or exc.user_message)
    return roles
