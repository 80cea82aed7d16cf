"""The ``[metrics]`` section: who may read ``/metrics`` (owned by the metrics endpoint, bot/web/metrics.py)."""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from bot.settings_base import Section, SharedSecret


class MetricsSettings(Section):
    """The ``[metrics]`` section: who may read ``/metrics``."""

    enabled: bool = True
    token: SharedSecret | None = None  # HELPDESK_METRICS__TOKEN; set it when Prometheus scrapes over the network
    allowed_networks: list[str] = Field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad entry
        return value
