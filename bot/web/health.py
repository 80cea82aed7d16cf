"""Liveness (/healthz) and readiness (/readyz: the database answers, schema is current)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bot.errors import HelpdeskError
from bot.services import Services


def build_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    def readyz() -> JSONResponse:
        from bot.storage import migrate

        checks: dict[str, str] = {}
        try:
            services.db.check()
            checks["database"] = "ok"
            checks["schema"] = "pending migrations" if migrate.pending(services.db) else "ok"
        except HelpdeskError as exc:
            checks["database"] = exc.user_message
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                            status_code=200 if ready else 503)

    return router
