"""Company directory integration: OpenLDAP (ppolicy) and Active Directory via ldap3.

The package root stays light (it is imported with the settings): the directory
client (``integrations.directory.factory.build_directory``), the self-service rules
(``selfservice``) and the lockout watch (``watch``) are imported where they are used.
"""

from integrations.directory.notices import DirectoryNotice, DirectoryNoticeSink, LockoutSeen, LockoutStorm
from integrations.directory.settings import DirectorySettings

__all__ = ["DirectoryNotice", "DirectoryNoticeSink", "DirectorySettings", "LockoutSeen", "LockoutStorm"]
