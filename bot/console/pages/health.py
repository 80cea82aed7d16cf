"""IT staff and admins: delivery queues (ticket outbox, chat notifications) with "retry now" for
failed rows, and the integration status of `helpdesk config check` (never a secret or a password)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.console import audit
from bot.console.context import ConsoleContext
from bot.console.deps import ConsoleUser, flash, require_role
from bot.console.pages.tickets_outbox import notifications, requeue_notifications, ticket_outbox
from bot.console.pages.tickets_view import age
from bot.errors import HelpdeskError, InvalidInputError
from bot.health import check_configuration
from bot.redact import redact
from integrations.ticketing import queue

NAV = ("Health", "/console/health", "it-staff")
log = logging.getLogger(__name__)


def build_router(ctx: ConsoleContext) -> APIRouter:
    """GET /health; POST /health/outbox/retry and /health/notifications/retry."""
    router = APIRouter()
    services = ctx.services
    staff = Depends(require_role("it-staff"))

    @router.get("/health", response_class=HTMLResponse)
    def health(request: Request, user: ConsoleUser = staff) -> Response:
        secrets = services.secrets
        with services.db.session() as session:
            outbox = ticket_outbox(session)
            channels = notifications(session, services.channel_senders)
        for summary in (outbox, *channels):
            for row in summary.rows:
                row["last_error"] = redact(row["last_error"], secrets) if row.get("last_error") else None
        checks = check_configuration(services.settings)["integrations"]
        for item in checks:  # the checks never include a secret; masked again in case a value slipped in
            item["details"] = redact(item["details"], secrets)
        return ctx.render(request, "health/health.html",
                          {"outbox": outbox, "channels": channels, "checks": checks, "age": age}, user=user)

    async def chosen(request: Request) -> list[int] | None:
        form = await request.form()
        values = [v for v in form.getlist("id") if isinstance(v, str)]
        ids = [int(v) for v in values if v.isdigit() and len(v) < 12]
        return ids if ids and len(ids) == len(values) else None

    def requeue_outbox(request: Request, user: ConsoleUser, ids: list[int]) -> None:
        with services.db.session() as session:
            done = queue.requeue(session, services.settings.ticketing, ids)
            audit.record(session, actor=user.email, action="outbox.retry", target=",".join(map(str, ids)),
                         details={"requeued": done.requeued, "already_queued": done.already_queued})
        parts = [f"Requeued outbox row {', '.join(map(str, done.requeued))}: the worker sends it now."
                 if done.requeued else "",
                 f"Already queued (the worker retries it): {', '.join(map(str, done.already_queued))}."
                 if done.already_queued else "",
                 f"Already delivered: {', '.join(map(str, done.already_done))}." if done.already_done else ""]
        flash(request, " ".join(p for p in parts if p))

    def requeue_notes(request: Request, user: ConsoleUser, ids: list[int]) -> None:
        with services.db.session() as session:
            requeued = requeue_notifications(session, ids)
            audit.record(session, actor=user.email, action="notification.retry", target=",".join(map(str, ids)),
                         details={"requeued": requeued})
        flash(request, f"Notification {', '.join(map(str, requeued))} requeued: the worker sends it now."
              if requeued else "Nothing to requeue: that notification is still queued (the worker retries it).")

    async def retry(request: Request, user: ConsoleUser, run: Callable[[Request, ConsoleUser, list[int]], None],
                    what: str) -> Response:
        ids = await chosen(request)
        try:
            if ids is None:
                raise InvalidInputError(f"Choose a {what} to retry.")
            await run_in_threadpool(run, request, user, ids)
        except HelpdeskError as exc:
            await run_in_threadpool(flash, request, exc.user_message, "error")
        return RedirectResponse("/console/health", status_code=303)

    @router.post("/health/outbox/retry")
    async def retry_outbox(request: Request, user: ConsoleUser = staff) -> Response:
        return await retry(request, user, requeue_outbox, "ticket outbox row")

    @router.post("/health/notifications/retry")
    async def retry_notifications(request: Request, user: ConsoleUser = staff) -> Response:
        return await retry(request, user, requeue_notes, "notification")

    return router
