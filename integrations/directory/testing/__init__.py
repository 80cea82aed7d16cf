"""Throwaway real directory servers on 127.0.0.1, for the tests and `helpdesk dev directory`.

* ``common`` — the demo data (data/directory/demo.ldif), ports, processes, and a private
  CA with a server certificate for SAN IP:127.0.0.1 (``make_pki``).
* ``slapd`` — ``Slapd``: OpenLDAP with a private slapd.conf, TLS, the ppolicy overlay and
  least-privilege ACLs for the bot's service account, seeded from the demo LDIF.
* ``samba_dc`` — ``SambaDC``: a Samba Active Directory domain controller (root only; ports
  389/636), provisioned once into a cache directory and copied for each run;
  ``samba_seed.py`` is the script that seeds it (run with the system Python).

Nothing here is used by the bot at run time.
"""

from integrations.directory.testing.common import (
    DATA_DIR,
    DEMO_LDIF,
    demo_password,
    demo_people,
    free_port,
    make_pki,
    port_in_use,
    read_ldif,
    wait_for_port,
)
from integrations.directory.testing.samba_dc import (
    AD_ADMIN_PASSWORD,
    AD_BASE,
    AD_BOT_DN,
    AD_BOT_LOGIN,
    AD_BOT_PASSWORD,
    AD_DOMAIN,
    AD_PEOPLE,
    AD_PROTECTED_GROUP,
    AD_REALM,
    SambaDC,
    samba_available,
)
from integrations.directory.testing.slapd import (
    BASE_DN,
    BOT_DN,
    BOT_PASSWORD,
    PEOPLE_BASE,
    ROOT_DN,
    ROOT_PASSWORD,
    Slapd,
)

__all__ = [
    "AD_ADMIN_PASSWORD", "AD_BASE", "AD_BOT_DN", "AD_BOT_LOGIN", "AD_BOT_PASSWORD", "AD_DOMAIN", "AD_PEOPLE",
    "AD_PROTECTED_GROUP", "AD_REALM", "BASE_DN", "BOT_DN", "BOT_PASSWORD", "DATA_DIR", "DEMO_LDIF",
    "PEOPLE_BASE", "ROOT_DN", "ROOT_PASSWORD", "SambaDC", "Slapd", "demo_password", "demo_people",
    "free_port", "make_pki", "port_in_use", "read_ldif", "samba_available", "wait_for_port",
]
