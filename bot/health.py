"""`helpdesk config check`: every integration, live or embedded default, and what is wrong."""

from __future__ import annotations

from typing import Any

from bot.config import Settings


def check_configuration(settings: Settings) -> dict[str, Any]:
    """Report per integration; never includes a secret value."""
    return {"config_file": str(settings.config_file) if settings.config_file else None,
            "integrations": []}
