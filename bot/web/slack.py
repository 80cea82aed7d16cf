"""``POST /slack/events``: events, interactivity and slash commands (one Request URL for all three).

Also starts Socket Mode alongside the server when ``slack.app_token`` is set.
Returns no router when Slack is not configured. The running adapter is kept on
the app, ``app.state.slack`` (read it with :func:`slack_adapter`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from bot.services import Services

if TYPE_CHECKING:
    from bot.channels.slack.adapter import SlackAdapter

log = logging.getLogger(__name__)


def build_router(services: Services) -> APIRouter | None:
    """The ``/slack/events`` route and the adapter's lifespan (Socket Mode, shutdown); None without Slack."""
    settings = services.settings.slack
    if not settings.configured:
        return None
    from slack_bolt.request import BoltRequest

    from bot.channels.slack.adapter import build_slack_adapter

    adapter = build_slack_adapter(services)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.slack = adapter  # tests and tools reach the running adapter here
        runner = None
        if settings.socket_mode_enabled and settings.socket_mode_in_server:
            from bot.channels.slack.socket_mode import SocketModeRunner

            runner = SocketModeRunner(adapter)
            try:
                await run_in_threadpool(runner.connect)
            except Exception as exc:  # Slack unreachable or token refused: keep serving HTTP
                log.error("Slack Socket Mode could not connect (%s); check slack.app_token with "
                          "`helpdesk slack check`. The HTTP endpoints keep running.", type(exc).__name__)
                runner = None
        try:
            yield
        finally:
            if runner is not None:
                await run_in_threadpool(runner.close)
            await run_in_threadpool(adapter.shutdown)

    router = APIRouter(lifespan=lifespan)
    if not settings.http_enabled:
        return router

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        body = (await request.body()).decode("utf-8", errors="replace")
        bolt_request = BoltRequest(body=body, query=request.url.query, headers=dict(request.headers))
        bolt_response = await run_in_threadpool(adapter.app.dispatch, bolt_request)
        headers = {k: v[0] for k, v in bolt_response.headers.items() if v and k.lower() != "content-length"}
        return Response(content=bolt_response.body, status_code=bolt_response.status, headers=headers)

    return router


def slack_adapter(app: FastAPI) -> SlackAdapter:
    """The Slack adapter of a started app (``LookupError`` when Slack is off or the app has not started)."""
    from bot.channels.slack.adapter import SlackAdapter

    adapter = getattr(app.state, "slack", None)
    if not isinstance(adapter, SlackAdapter):
        raise LookupError("this app runs no Slack adapter (Slack not configured, or the app not started)")
    return adapter
