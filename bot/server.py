"""The HTTP server: health/readiness, plus the routers each capability mounts.

Routers are built by ``build_router(services)`` in each ``bot.web`` module.
Background workers (ticket outbox, notifications, lockout watch) run in
threads started with the app when ``server.run_workers`` is on.
"""

from __future__ import annotations

import importlib
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI

from bot.services import Services

log = logging.getLogger(__name__)

ROUTER_MODULES = [
    "bot.web.health",
    "bot.web.chat_api",
    "bot.web.parse",      # Rasa-compatible POST /model/parse
    "bot.web.slack",      # /slack/events
    "bot.web.jira",       # /webhooks/jira
    "bot.web.reset",      # /reset/… password reset page
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

    app = FastAPI(title="Helpdesk bot", version="0.1.0", lifespan=lifespan,
                  docs_url="/docs", redoc_url=None)
    app.state.services = services
    for name in ROUTER_MODULES:
        module = importlib.import_module(name)
        router = module.build_router(services)
        if router is not None:
            app.include_router(router)
    return app
