"""Build the configured directory client (or None: account requests then become tickets)."""

from __future__ import annotations

from integrations.directory.client import LdapDirectory
from integrations.directory.settings import DirectorySettings


def build_directory(settings: DirectorySettings) -> LdapDirectory | None:
    """OpenLDAP or Active Directory client from ``[directory]``; None when ``kind = "none"``.

    Nothing is contacted here; a bad setting raises ConfigError naming the field.
    """
    if settings.kind == "none":
        return None
    if settings.kind == "ad":
        from integrations.directory.ad import ActiveDirectory

        return ActiveDirectory(settings)
    from integrations.directory.openldap import OpenLdapDirectory

    return OpenLdapDirectory(settings)
