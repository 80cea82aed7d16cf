"""Company directory integration: OpenLDAP (ppolicy) and Active Directory via ldap3."""
