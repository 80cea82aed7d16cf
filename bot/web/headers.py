"""The hardening headers every page the server renders sends (the reset page, the console).

One definition: each page family passes only its own Content-Security-Policy; HSTS is added when the
public URL is https.
"""

from __future__ import annotations

HARDENING = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "X-Robots-Tag": "noindex, nofollow",
}
HSTS = {"Strict-Transport-Security": "max-age=31536000; includeSubDomains"}


def security_headers(csp: str, *, https: bool) -> dict[str, str]:
    """The hardening headers with ``csp`` as the Content-Security-Policy (+ HSTS when ``https``)."""
    return {**HARDENING, "Content-Security-Policy": csp, **(HSTS if https else {})}
