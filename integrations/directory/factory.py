"""Build the configured directory client (or None: account requests then become tickets)."""

from __future__ import annotations

from bot.config import Settings
from integrations.directory.client import LdapDirectory


def build_directory(settings: Settings) -> LdapDirectory | None:
    """OpenLDAP or Active Directory client from ``[directory]``; None when ``kind = "none"``.

    Nothing is contacted here; a bad setting raises ConfigError naming the field.
    """
    s = settings.directory
    if s.kind == "none":
        return None
    if s.kind == "ad":
        from integrations.directory.ad import ActiveDirectory

        return ActiveDirectory(s)
    from integrations.directory.openldap import OpenLdapDirectory

    return OpenLdapDirectory(s)
