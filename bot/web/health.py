"""Liveness (/healthz) and readiness (/readyz: the database takes writes, the schema is current).

/readyz names no host, user or database: it is often reachable by more people than the logs.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bot.errors import HelpdeskError
from bot.services import Services


def build_router(services: Services) -> APIRouter:
    """GET /healthz (alive) and GET /readyz (database reachable and writable, schema current)."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    def readyz() -> JSONResponse:
        from bot.storage import migrate

        checks: dict[str, str] = {}
        try:
            services.db.check_writable()
            checks["database"] = "ok"
            checks["schema"] = "pending migrations" if migrate.pending(services.db) else "ok"
        except HelpdeskError as exc:
            checks["database"] = exc.user_message if exc.user_message.startswith("The database") \
                else "The database is not reachable."
        except Exception:  # noqa: BLE001 - a probe never fails the endpoint
            checks["database"] = "The database is not reachable."
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                            status_code=200 if ready else 503)

    return router
