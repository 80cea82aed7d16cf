"""``GET /metrics``: Prometheus exposition, for a bearer token or from internal addresses only.

Access rule (``[metrics]``, :class:`MetricsSettings`):

* ``enabled = false`` → no route at all (404);
* ``token`` set → every caller must send ``Authorization: Bearer <token>`` (401 otherwise);
* no token → only clients whose address is in ``allowed_networks`` (default: loopback)
  get the metrics; anyone else gets 404, as if the route did not exist.

The outbox gauges are computed from the database at scrape time, so every
replica reports the same shared outbox; the encoder's batch counts are read
from the process's encoder if it has loaded one.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request, Response
from sqlalchemy import func, select, text

from bot import metrics
from bot.config.metrics import MetricsSettings
from bot.services import Services
from bot.storage.base import utcnow
from bot.storage.models import Notification

log = logging.getLogger(__name__)
OUTBOX_STATUSES = ("pending", "failed")


def metrics_settings(services: Services) -> MetricsSettings:
    """The ``[metrics]`` section."""
    return services.settings.metrics


def _internal(address: str | None, networks: Iterable[str]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


def outbox_samples(services: Services) -> list[metrics.GaugeSample]:
    """Depth per outbox and status, and the age of the oldest pending row (seconds), from the database."""
    from integrations.ticketing.models import TicketOutbox

    samples: list[metrics.GaugeSample] = []
    now = utcnow()
    with services.db.session() as session:
        for name, model in (("tickets", TicketOutbox), ("notifications", Notification)):
            counts: dict[str, int] = dict.fromkeys(OUTBOX_STATUSES, 0)
            rows: Any = session.execute(select(model.status, func.count())
                                        .where(model.status.in_(OUTBOX_STATUSES)).group_by(model.status))
            for status, count in rows:
                counts[str(status)] = int(count)
            for status, count in counts.items():
                samples.append(({"outbox": name, "status": status, "measure": "depth"}, float(count)))
            oldest = session.scalar(select(func.min(model.created_at)).where(model.status == "pending"))
            age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
            samples.append(({"outbox": name, "status": "pending", "measure": "oldest_age_seconds"}, age))
    return samples


def database_up(services: Services) -> list[metrics.GaugeSample]:
    """1 when a ``SELECT 1`` succeeds, else 0 (never raises: the scrape still answers)."""
    try:
        with services.db.session() as session:
            session.execute(text("SELECT 1"))
        return [({}, 1.0)]
    except Exception:  # noqa: BLE001 - down is a value here, not an error
        return [({}, 0.0)]


def encoder_stats(services: Services) -> dict[str, int]:
    """The batching encoder's counters, when this process has loaded it (else zeros)."""
    if not services.has_loaded("encoder"):
        return {"calls": 0, "batches": 0}
    encoder = services.encoder
    return {"calls": int(getattr(encoder, "calls", 0)), "batches": int(getattr(encoder, "batches", 0))}


def register_sources(services: Services) -> None:
    """Read the outbox, the database and the encoder at every scrape."""
    def split(measure: str) -> list[metrics.GaugeSample]:
        return [(labels, value) for labels, value in outbox_samples(services) if labels["measure"] == measure]

    metrics.register_gauge_source("helpdesk_outbox_depth", "Rows waiting (pending) or given up (failed), per outbox.",
                                  ("outbox", "status"), lambda: split("depth"))
    metrics.register_gauge_source("helpdesk_outbox_oldest_age_seconds",
                                  "Age of the oldest pending row, per outbox (0 when empty).",
                                  ("outbox",), lambda: split("oldest_age_seconds"))
    metrics.register_gauge_source("helpdesk_database_up", "1 when the database answers a SELECT 1.", (),
                                  lambda: database_up(services))
    metrics.register_encoder_stats(lambda: encoder_stats(services))


def build_router(services: Services) -> APIRouter | None:
    """``GET /metrics`` (None when ``metrics.enabled`` is false)."""
    settings = metrics_settings(services)
    if not settings.enabled:
        return None
    register_sources(services)
    expected = (f"Bearer {settings.token.get_secret_value()}".encode() if settings.token is not None else None)
    router = APIRouter(tags=["operations"])

    @router.get("/metrics", include_in_schema=False)
    def scrape(request: Request, authorization: str = Header("")) -> Response:
        if expected is not None:
            if not hmac.compare_digest(authorization.encode(), expected):
                raise HTTPException(status_code=401, detail="missing or wrong bearer token",
                                    headers={"WWW-Authenticate": "Bearer"})
        elif not _internal(request.client.host if request.client else None, settings.allowed_networks):
            raise HTTPException(status_code=404, detail="Not Found")
        body, content_type = metrics.render()
        return Response(content=body, media_type=content_type.split(";")[0],
                        headers={"Content-Type": content_type, "Cache-Control": "no-store"})

    return router
