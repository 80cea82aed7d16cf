"""POST /webhooks/jira: Jira tells us about comments and status changes on our tickets.

Authenticated with ``ticketing.jira.webhook_secret`` (``?secret=`` or
``X-Hub-Signature: sha256=…``); see integrations/ticketing/webhook.py.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.services import Services
from integrations.ticketing.webhook import WebhookOutcome, WebhookRejected, handle_delivery

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000


def build_router(services: Services) -> APIRouter | None:
    router = APIRouter()

    @router.post("/webhooks/jira")
    async def jira_webhook(request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_BODY:
            log.warning("Jira webhook rejected: body of %s bytes is too large", len(body))
            return JSONResponse({"ok": False, "error": "too large"}, status_code=413)
        headers = {k.lower(): v for k, v in request.headers.items()}
        secret = request.query_params.get("secret")

        def apply() -> WebhookOutcome:
            with services.db.session() as session:
                return handle_delivery(session, services.settings, body=body, headers=headers,
                                       query_secret=secret)

        try:
            outcome = await run_in_threadpool(apply)
        except WebhookRejected as exc:
            log.warning("Jira webhook rejected (HTTP %s): %s; nothing was changed", exc.status, exc.reason)
            return JSONResponse({"ok": False, "error": exc.reason}, status_code=exc.status)
        log.info("Jira webhook %s: %s", outcome.status, outcome.detail)
        return JSONResponse({"ok": True, "result": outcome.status, "detail": outcome.detail})

    return router
