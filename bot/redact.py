"""Mask secrets in free text before it is stored, logged or sent to a ticket."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[REDACTED]"

_PATTERNS: list[re.Pattern[str]] = [
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}"),             # Slack tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]{8,}"),                    # Slack app-level tokens
    re.compile(r"\bATATT[A-Za-z0-9_\-=]{16,}"),                # Atlassian API tokens
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),              # AWS access keys
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"),             # GitHub tokens
    re.compile(r"\bsk-[A-Za-z0-9_\-]{20,}\b"),                 # API secret keys
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),  # JWT
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/\-]{16,}=*", re.I),
    re.compile(r"(?<=/reset/)[A-Za-z0-9_\-]{8,}"),                 # one-time reset links (access log)
]
# "password: hunter2", "my pw is hunter2", "passcode=1234" → keep the label, mask the value (up to white space,
# so a password containing "&" or "=" is masked whole). A label inside a URL's query is left to _QUERY_PARAM.
_LABELLED = re.compile(
    r"(?<![?&\w])(?P<label>\b(?:pass(?:word|wd|code|phrase)?|pwd|pw|pin|secret|token|api[_ -]?key)\b"
    r"(?:\s+(?:is|was|=|:)|\s*[:=])\s*)(?P<value>\S+)",
    re.I,
)
# A URL query parameter ("?secret=…&user=1", "&client_secret=…", "?code=…"): the value of one whose name has a
# secret-looking part is masked up to the next parameter, so the other parameters stay readable in access logs.
_QUERY_PARAM = re.compile(r"(?<=[?&])(?P<name>[A-Za-z0-9_.\-]+)=(?P<value>[^&\s#\"']*)")
_SECRET_NAME = re.compile(r"pass|secret|token|api[_.\-]?key|credential|signature|session", re.I)
_SECRET_PART = frozenset({"pw", "pwd", "pin", "code", "sig", "auth", "otp"})


def _mask_query_param(m: re.Match[str]) -> str:
    name = m.group("name")
    secret = _SECRET_NAME.search(name) or any(p in _SECRET_PART for p in re.split(r"[_.\-]", name.lower()))
    return f"{name}={MASK}" if secret and m.group("value") else m.group(0)


# A long run of mixed letters and digits looks like a credential.
# ("/" is left out so file paths in tracebacks stay readable; configured secrets are masked exactly anyway)
_HIGH_ENTROPY = re.compile(r"\b(?=[A-Za-z0-9+_\-]*\d)(?=[A-Za-z0-9+_\-]*[A-Za-z])[A-Za-z0-9+_\-]{32,}\b")


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with credentials masked; ``extra_secrets`` are exact values to mask."""
    if not text:
        return text
    out = text
    for secret in extra_secrets:
        if secret and len(secret) >= 4:
            out = out.replace(secret, MASK)
    for pattern in _PATTERNS:
        out = pattern.sub(MASK, out)
    out = _QUERY_PARAM.sub(_mask_query_param, out)
    out = _LABELLED.sub(lambda m: m.group("label") + MASK, out)
    out = _HIGH_ENTROPY.sub(MASK, out)
    return out
