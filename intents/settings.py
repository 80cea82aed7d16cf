"""Language-understanding settings (owned by the understanding module)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.settings_base import Credential, Section, SharedSecret


class NluSettings(Section):
    """Built-in classifier or a remote Rasa server; the confidence policy's thresholds.

    The thresholds apply to the top intent's probability: at or above
    ``high_confidence`` the bot acts; between ``low_confidence`` and
    ``high_confidence`` it asks "Did you mean …?"; below ``low_confidence`` (or
    out of scope) it searches the knowledge base. Defaults were chosen on
    cross-validation of the default intent set (``helpdesk nlu test``).
    """

    backend: Literal["builtin", "rasa"] = "builtin"
    rasa_url: str | None = None
    rasa_token: Credential | None = None
    rasa_timeout_seconds: float = Field(default=5.0, gt=0)
    high_confidence: float = Field(default=0.70, ge=0, le=1)
    low_confidence: float = Field(default=0.40, ge=0, le=1)
    auto_train: bool = True
    # how often a serving process looks for a newer saved model (another process retrained); 0 = never
    model_check_seconds: float = Field(default=30.0, ge=0)
    min_examples_per_intent: int = Field(default=5, ge=1)
    classifier_c: float = Field(default=10.0, gt=0)
    tfidf_features: bool = True
    serve_parse_api: bool = True
    parse_api_token: SharedSecret | None = None
    parse_requests_per_minute: int = Field(default=60, ge=1)  # /model/parse, per client address
