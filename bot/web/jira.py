"""POST /webhooks/jira: Jira tells us about comments and status changes on our tickets.

Authenticated with ``ticketing.jira.webhook_secret`` (``?secret=`` or
``X-Hub-Signature: sha256=…``); see integrations/ticketing/webhook.py. Bodies over
``MAX_BODY`` bytes are refused with 413 before they are read into memory, and the
``?secret=`` value is masked in the server's access log.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.logs import install_access_log_mask
from bot.services import Services
from integrations.ticketing.webhook import WebhookOutcome, WebhookRejected, handle_delivery

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000


def _too_large(size: int | str) -> JSONResponse:
    log.warning("Jira webhook rejected: body of %s bytes is too large (limit %s)", size, MAX_BODY)
    return JSONResponse({"ok": False, "error": "too large"}, status_code=413)


async def _read_capped(request: Request) -> bytes | None:
    """The body, or None as soon as it grows past ``MAX_BODY`` (never buffered whole)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def build_router(services: Services) -> APIRouter | None:
    """The webhook route; deliveries are checked against ``ticketing.jira.webhook_secret``."""
    router = APIRouter()
    install_access_log_mask()  # ?secret= never reaches the access log

    @router.post("/webhooks/jira")
    async def jira_webhook(request: Request) -> JSONResponse:
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                return JSONResponse({"ok": False, "error": "bad Content-Length"}, status_code=400)
            if int(declared) > MAX_BODY:
                return _too_large(declared)
        body = await _read_capped(request)
        if body is None:
            return _too_large(f"more than {MAX_BODY}")
        headers = {k.lower(): v for k, v in request.headers.items()}
        secret = request.query_params.get("secret")

        def apply() -> WebhookOutcome:
            with services.db.session() as session:
                return handle_delivery(session, services.settings.ticketing.jira.webhook_secret,
                                       services.notices, body=body, headers=headers, query_secret=secret)

        try:
            outcome = await run_in_threadpool(apply)
        except WebhookRejected as exc:
            log.warning("Jira webhook rejected (HTTP %s): %s; nothing was changed", exc.status, exc.reason)
            return JSONResponse({"ok": False, "error": exc.reason}, status_code=exc.status)
        log.info("Jira webhook %s: %s", outcome.status, outcome.detail)
        return JSONResponse({"ok": True, "result": outcome.status, "detail": outcome.detail})

    return router
