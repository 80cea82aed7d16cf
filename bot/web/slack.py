"""``POST /slack/events``: events, interactivity and slash commands (one Request URL for all three).

In this order, each step before the next one reads more of the request: the
declared size (413 over ``slack.max_request_kb``, before reading), the body
read up to that size, the signature over the raw bytes (401; a timestamp that is
not a number is a bad signature, not an error), and only then parsing (400 for
a body that is not what Slack sends). Request bodies are never logged.

Also starts Socket Mode alongside the server when ``slack.app_token`` is set, and in the OAuth
install mode (``slack.oauth``) serves ``/slack/install`` and ``/slack/oauth_redirect``.
Returns no router when Slack is not configured. The running adapter is kept on
the app, ``app.state.slack`` (read it with :func:`slack_adapter`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.services import Services

if TYPE_CHECKING:
    from bot.channels.slack.adapter import SlackAdapter

log = logging.getLogger(__name__)
MAX_CLOCK_SKEW = 60 * 5  # Slack's replay window


def signature_ok(secret: str, raw: bytes, timestamp: str | None, signature: str | None,
                 now: float | None = None) -> bool:
    """Slack's v0 signature over the raw body; any malformed header is simply a bad signature."""
    if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if not signature.isascii() or abs((time.time() if now is None else now) - int(timestamp)) > MAX_CLOCK_SKEW:
        return False
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + raw,
                                hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode())


def _refused(status: int, error: str) -> Response:
    return JSONResponse({"error": error}, status_code=status)


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None once it passes ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            return None
    return bytes(raw)


def build_router(services: Services) -> APIRouter | None:
    """The ``/slack/events`` route and the adapter's lifespan (Socket Mode, recovery, shutdown); None without Slack."""
    settings = services.settings.slack
    if not settings.configured:
        return None
    from slack_bolt.request import BoltRequest

    from bot.channels.slack import shape
    from bot.channels.slack.adapter import build_slack_adapter

    adapter = build_slack_adapter(services)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.slack = adapter  # tests and tools reach the running adapter here
        adapter.start()  # answer what a replica that died left acknowledged but unanswered
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
    if adapter.installations is not None:
        _install_routes(router, adapter)
    if not settings.http_enabled or settings.signing_secret is None:
        return router
    secret = settings.signing_secret.get_secret_value()
    limit = settings.max_request_kb * 1024

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        raw = await read_capped(request, limit)
        if raw is None:
            return _refused(413, "request body too large")
        if not signature_ok(secret, raw, request.headers.get("x-slack-request-timestamp"),
                            request.headers.get("x-slack-signature")):
            return _refused(401, "invalid request")
        try:
            body = raw.decode("utf-8")
            bolt_request = BoltRequest(body=body, query=request.url.query, headers=dict(request.headers))
        except Exception:  # noqa: BLE001 - signed, but not a payload Slack sends (bad UTF-8, JSON, nesting)
            return _refused(400, "malformed payload")
        if not isinstance(bolt_request.body, dict) or shape.problem(bolt_request.body) is not None:
            return _refused(400, "malformed payload")
        bolt_response = await run_in_threadpool(adapter.app.dispatch, bolt_request)
        headers = {k: v[0] for k, v in bolt_response.headers.items() if v and k.lower() != "content-length"}
        return Response(content=bolt_response.body, status_code=bolt_response.status, headers=headers)

    return router


def _install_routes(router: APIRouter, adapter: SlackAdapter) -> None:
    """``GET /slack/install`` (redirect to Slack with a one-time state) and ``GET /slack/oauth_redirect``.

    Both are bolt's OAuth flow: the state is issued into our database and a browser cookie, and the
    redirect is refused (400/401) unless that browser brings back that unused, unexpired state.
    The success and failure pages are bolt's; they show no token.
    """
    from slack_bolt.request import BoltRequest

    from bot.channels.slack.oauth import INSTALL_PATH, REDIRECT_PATH

    flow = adapter.app.oauth_flow
    assert flow is not None  # the adapter runs in OAuth mode

    def respond(bolt_response: Any) -> Response:
        response = Response(content=bolt_response.body, status_code=bolt_response.status)
        for key, values in bolt_response.headers.items():
            if key.lower() != "content-length":
                for value in values:
                    response.headers.append(key, value)
        response.headers["Cache-Control"] = "no-store"
        return response

    def bolt_request(request: Request) -> Any:
        return BoltRequest(body="", query=request.url.query, headers=dict(request.headers))

    @router.get(INSTALL_PATH, include_in_schema=False)
    async def slack_install(request: Request) -> Response:
        return respond(await run_in_threadpool(flow.handle_installation, bolt_request(request)))

    @router.get(REDIRECT_PATH, include_in_schema=False)
    async def slack_oauth_redirect(request: Request) -> Response:
        if len(request.url.query) > 4096:
            return _refused(400, "request too large")
        return respond(await run_in_threadpool(flow.handle_callback, bolt_request(request)))


def slack_adapter(app: FastAPI) -> SlackAdapter:
    """The Slack adapter of a started app (``LookupError`` when Slack is off or the app has not started)."""
    from bot.channels.slack.adapter import SlackAdapter

    adapter = getattr(app.state, "slack", None)
    if not isinstance(adapter, SlackAdapter):
        raise LookupError("this app runs no Slack adapter (Slack not configured, or the app not started)")
    return adapter
