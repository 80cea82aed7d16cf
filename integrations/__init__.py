"""Outside systems: directory (LDAP/AD), ticketing (Jira, local queue), Rasa."""
