"""Language-understanding settings (owned by the understanding module)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.config.core import Section


class NluSettings(Section):
    """Built-in classifier or a remote Rasa server; the confidence policy's thresholds."""

    backend: Literal["builtin", "rasa"] = "builtin"
    rasa_url: str | None = None
    rasa_timeout_seconds: float = Field(default=5.0, gt=0)
    high_confidence: float = Field(default=0.70, ge=0, le=1)
    low_confidence: float = Field(default=0.40, ge=0, le=1)
