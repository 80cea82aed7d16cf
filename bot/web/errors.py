"""One way every HTTP surface answers a bad request: a short JSON error, never a traceback or an echo.

Validation errors name the field and the problem but not the value sent (it may
be a secret, or not even representable as JSON, like NaN); input nested too
deeply or text that is not valid Unicode is a 400; anything unexpected is
logged once and answered with a plain 500.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bot.web.limits import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", "invalid"))}
                  for err in exc.errors()[:10]]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(RecursionError)
    async def too_deep(_request: Request, _exc: RecursionError) -> JSONResponse:
        return JSONResponse({"detail": "the request is nested too deeply"}, status_code=400)

    @app.exception_handler(UnicodeError)
    async def not_unicode(_request: Request, _exc: UnicodeError) -> JSONResponse:
        return JSONResponse({"detail": "the request contains text that is not valid Unicode"}, status_code=400)



class CatchAll:
    """ASGI middleware (outermost): an unexpected exception becomes one log line and a plain 500.

    Starlette's own handler would answer too, but then re-raise, so the server
    prints a traceback (which may quote request data) for every such request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            log.error("unhandled error on %s %s: %s", scope.get("method"), scope.get("path"), type(exc).__name__)
            if not started:
                body = b'{"detail":"internal error"}'
                await send({"type": "http.response.start", "status": 500,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})


def valid_unicode(value: str) -> str:
    """A pydantic validator: refuse lone surrogates (JSON allows them, UTF-8 and databases do not)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


__all__ = ["CatchAll", "install_error_handlers", "valid_unicode"]
