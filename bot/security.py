"""Settings that are unsafe in production: one rule, used by `config check` and `serve`.

Empty and short secrets are already refused when the settings are loaded
(``bot.settings_base``); this adds what depends on how sections combine:
clear-text URLs on a reachable address, TLS verification switched off.
``server.allow_insecure`` turns these errors into warnings, for development.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from bot.config import Settings

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: an address only this machine can reach."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _clear_text_remote(url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme == "http" and not is_loopback(parts.hostname)


def insecure_settings(settings: Settings, *, host: str | None = None) -> list[str]:
    """What would make `helpdesk serve` unsafe to run in production (empty list: nothing).

    ``host`` is the address the server will listen on (default ``server.host``).
    """
    problems: list[str] = []
    listen = host or settings.server.host
    public = urlsplit(settings.server.public_url)
    if public.scheme != "https" and not (is_loopback(listen) and is_loopback(public.hostname)):
        problems.append(
            f"server.public_url is {public.scheme}:// while the server is reachable beyond this machine "
            f"(listening on {listen}): reset links and session cookies would travel in clear; use https://")
    jira = settings.ticketing.jira
    if settings.ticketing.backend == "jira":
        if not jira.verify_tls:
            problems.append("ticketing.jira.verify_tls is false: Jira's certificate would not be checked")
        if _clear_text_remote(jira.url):
            problems.append("ticketing.jira.url is http:// to another machine: Jira credentials would "
                            "travel in clear; use https://")
    if settings.slack.configured and _clear_text_remote(settings.slack.api_base_url):
        problems.append("slack.api_base_url is http:// to another machine; use https://")
    oauth = settings.slack.oauth
    if oauth.enabled:  # the client secret and the installations' tokens travel through these
        for name in ("redirect_uri", "authorization_url"):
            url = getattr(oauth, name)
            if url and urlsplit(url).scheme != "https" and not is_loopback(urlsplit(url).hostname):
                problems.append(f"slack.oauth.{name} is not https:// to another machine: the install's code "
                                "and state would travel in clear; use https://")
    if settings.nlu.backend == "rasa" and settings.nlu.rasa_token is not None \
            and _clear_text_remote(settings.nlu.rasa_url):
        problems.append("nlu.rasa_url is http:// to another machine while a token is sent; use https://")
    return problems
