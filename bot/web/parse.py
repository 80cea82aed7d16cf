"""Rasa-compatible NLU HTTP API: ``POST /model/parse``, ``GET /version``, ``GET /status``.

Tools written for Rasa's HTTP API work against the bot: the body of
``/model/parse`` is Rasa's (``text``, ``intent{name,confidence}``,
``intent_ranking``, ``entities`` with ``start``/``end``/``value``/``entity``/
``extractor``). When ``nlu.parse_api_token`` is set, requests must pass it as
``?token=…`` like Rasa's token authentication (``/status`` too). Each client
address may make ``nlu.parse_requests_per_minute`` requests a minute (429 with
``Retry-After`` beyond); texts are capped at 4,000 characters.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.errors import HelpdeskError, NluBackendError
from bot.services import Services
from bot.web.limits import RateLimiter, retry_after_header

log = logging.getLogger(__name__)

RASA_COMPAT_VERSION = "3.6.20"  # the Rasa HTTP API version whose shapes we answer
MAX_TEXT = 4000


def _failure(code: int, reason: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """Rasa's error body."""
    return JSONResponse({"version": RASA_COMPAT_VERSION, "status": "failure", "message": message,
                         "reason": reason, "details": {}, "help": None, "code": code}, status_code=code,
                        headers=headers)


def build_router(services: Services) -> APIRouter | None:
    """The Rasa-compatible routes, or None when ``nlu.serve_parse_api`` is off."""
    nlu = services.settings.nlu
    if not nlu.serve_parse_api:
        return None
    router = APIRouter(tags=["nlu"])
    token = nlu.parse_api_token.get_secret_value() if nlu.parse_api_token else None
    per_client = RateLimiter(nlu.parse_requests_per_minute)

    def limited(request: Request) -> JSONResponse | None:
        """429 once this client address has used its parses for the minute (counted before the token check)."""
        wait = per_client.hit(request.client.host if request.client else "unknown")
        if wait is None:
            return None
        return _failure(429, "TooManyRequests", "Too many requests; try again shortly.", retry_after_header(wait))

    def authorised(request: Request) -> bool:
        if token is None:
            return True
        given = request.query_params.get("token", "")
        return hmac.compare_digest(given.encode(), token.encode())

    @router.post("/model/parse")
    async def model_parse(request: Request) -> Any:
        refused = limited(request)
        if refused is not None:
            return refused
        if not authorised(request):
            return _failure(401, "NotAuthenticated", "User is not authenticated.")
        try:
            body = await request.json()
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            return _failure(400, "BadRequest", "The request body is not valid JSON.")
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str):
            return _failure(400, "BadRequest", "The request body needs a \"text\" string.")
        if len(text) > MAX_TEXT:
            return _failure(400, "BadRequest", f"The text is longer than {MAX_TEXT} characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: valid JSON, but no text
            return _failure(400, "BadRequest", "The text is not valid Unicode.")
        from starlette.concurrency import run_in_threadpool

        try:
            result = await run_in_threadpool(services.nlu.parse, text)
        except HelpdeskError as exc:
            log.warning("parse failed: %s", exc.detail or exc.user_message)
            return _failure(503 if isinstance(exc, NluBackendError) else 500,
                            "ParsingError", exc.user_message)
        out = result.to_rasa()
        if isinstance(body, dict) and body.get("message_id"):
            out["message_id"] = body["message_id"]
        return out

    @router.get("/version")
    def version() -> dict[str, str]:
        return {"version": RASA_COMPAT_VERSION, "minimum_compatible_version": "3.0.0"}

    @router.get("/status")
    def status(request: Request) -> Any:
        refused = limited(request)
        if refused is not None:
            return refused
        if not authorised(request):
            return _failure(401, "NotAuthenticated", "User is not authenticated.")
        parser = services.nlu
        info = parser.status() if hasattr(parser, "status") else {}
        return {"model_id": info.get("fingerprint") or info.get("model_id"),
                "model_file": info.get("model_file"), "num_active_training_jobs": 0,
                "fingerprint": {"nlu": info.get("fingerprint")}, "backend": info.get("backend"),
                # a newer saved model this process could not load (the old one keeps serving)
                **({"model_problem": info["model_problem"]} if info.get("model_problem") else {})}

    return router
