"""The HTTP server: health/readiness, plus the routers each capability mounts.

Each ``bot.web`` module has a ``build_router(services)``; :func:`router_builders` lists them.
Background workers (ticket outbox, notifications, lockout watch) run in
threads started with the app when ``server.run_workers`` is on.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from bot.logs import install_access_log_mask
from bot.services import Services
from bot.web.errors import CatchAll, install_error_handlers
from bot.web.limits import ASGIApp, BodySizeLimit

log = logging.getLogger(__name__)

RouterBuilder = Callable[[Services], "APIRouter | None"]


class HelpdeskApp(FastAPI):
    """FastAPI with :class:`CatchAll` outermost: no request ever ends in a server traceback."""

    def build_middleware_stack(self) -> ASGIApp:
        return CatchAll(super().build_middleware_stack())


def router_builders() -> list[RouterBuilder]:
    """Every HTTP surface, in mount order (a builder returns None when its feature is off)."""
    from bot import console
    from bot.web import chat_api, health, jira, metrics, parse, reset, slack

    return [
        health.build_router,
        chat_api.build_router,
        parse.build_router,   # Rasa-compatible POST /model/parse
        slack.build_router,   # /slack/events
        jira.build_router,    # /webhooks/jira
        reset.build_router,   # /reset/… password reset page
        metrics.build_router,  # /metrics (Prometheus; token or internal addresses only)
        console.build_router,  # /console web console (trainers, IT staff)
    ]


def create_app(services: Services, *, start_workers: bool | None = None) -> FastAPI:
    """Build the ASGI app around one Services instance."""
    run_workers = services.settings.server.run_workers if start_workers is None else start_workers

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from bot.worker import Worker

        worker = Worker(services) if run_workers else None
        if worker:
            worker.start()
        try:
            yield
        finally:
            if worker:
                worker.stop()

    docs = services.settings.server.api_docs
    app = HelpdeskApp(title="Helpdesk bot", version="0.1.0", lifespan=lifespan, redoc_url=None,
                      docs_url="/docs" if docs else None, openapi_url="/openapi.json" if docs else None)
    app.state.services = services
    install_error_handlers(app)
    install_access_log_mask()  # one-time link tokens and ?secret= never reach the access log
    app.add_middleware(BodySizeLimit, max_bytes=services.settings.server.max_body_bytes)
    for build in router_builders():
        router = build(services)
        if router is not None:
            app.include_router(router)
    return app
