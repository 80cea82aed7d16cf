"""IT staff: the ticket queue and one ticket's page, with the actions of `helpdesk tickets`.

Every action calls the same function in integrations/ticketing/queue.py as the CLI, with the
same notice sink, so the employee hears a comment, a resolution or "waiting on you" in Slack
exactly as from the CLI or Jira; internal notes never reach them. Each action records a
console audit row and ends in a flash message; a refusal from the queue (bad input, a Jira
ticket that must be worked in Jira, reopening an open ticket) is shown on the page.

A Jira ticket's page shows the bot's mirror (kept current by Jira's webhook) and its outbox rows;
rendering never calls Jira: the Jira backend is ``live_lookup`` (every look-up is a round trip to
a tracker that may be slow or down), and for the local queue the mirror is the ticket itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.console import audit
from bot.console.context import ConsoleContext
from bot.console.deps import ConsoleUser, flash, require_role
from bot.console.pages.tickets_view import AGES, QueueFilters, age, outbox_state, queue_page, sections
from bot.errors import HelpdeskError
from bot.redact import redact
from integrations.ticketing import queue
from integrations.ticketing.base import URGENCIES, TrackerAdmin

NAV = ("Tickets", "/console/tickets", "it-staff")
ROLE = "it-staff"
KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,9}-\d{1,7}$")
log = logging.getLogger(__name__)


def tracker_of(ctx: ConsoleContext) -> TrackerAdmin | None:
    """The Jira backend when Jira is configured (to act on Jira tickets), else None (as the CLI)."""
    from integrations.ticketing.jira_backend import JiraBackend

    backend = ctx.services.ticketing
    return backend if isinstance(backend, JiraBackend) else None


def build_router(ctx: ConsoleContext) -> APIRouter:
    """GET /tickets, GET /tickets/{key} and POST /tickets/{key}/{action}."""
    router = APIRouter()
    services = ctx.services
    staff = Depends(require_role(ROLE))

    @router.get("/tickets", response_class=HTMLResponse)
    def ticket_queue(request: Request, user: ConsoleUser = staff) -> Response:
        error = None
        try:
            filters = QueueFilters.parse(request.query_params, me=user.email)
            with services.db.session() as session:
                page = queue_page(session, filters)
        except HelpdeskError as exc:
            error, filters = exc.user_message, QueueFilters()
            with services.db.session() as session:
                page = queue_page(session, filters)
        return ctx.render(request, "tickets/queue.html",
                          {"page": page, "f": page.filters, "error": error, "ages": AGES, "urgencies": URGENCIES,
                           "statuses": queue.STATUS_FILTERS, "sorts": queue.SORTS, "age": age},
                          user=user, status=400 if error else 200)

    @router.get("/tickets/{key}", response_class=HTMLResponse)
    def ticket_page(key: str, request: Request, user: ConsoleUser = staff) -> Response:
        if not KEY.match(key):
            return ctx.render(request, "tickets/missing.html", {"key": key[:20]}, user=user, status=404)
        try:
            with services.db.session() as session:
                data = queue.show(session, key)
                outbox = outbox_state(session, key) if data["backend"] == "jira" else []
        except HelpdeskError:
            return ctx.render(request, "tickets/missing.html", {"key": key.upper()}, user=user, status=404)
        for row in outbox:
            row["last_error"] = redact(row["last_error"], services.secrets) if row["last_error"] else None
        for event in data["events"]:  # e.g. a delivery error's text
            event["data"] = {k: redact(str(v), services.secrets) for k, v in (event["data"] or {}).items()}
        # stored redacted when the ticket was opened; masked again with today's configured secrets
        description = redact(data["description"], services.secrets)
        return ctx.render(request, "tickets/ticket.html",
                          {"t": data, "sections": sections(description), "outbox": outbox,
                           "comments": [c for c in data["comments"] if not c["internal"]],
                           "notes": [c for c in data["comments"] if c["internal"]],
                           "statuses": queue.STATUS_CHOICES, "urgencies": URGENCIES, "age": age,
                           "local": data["backend"] == "local", "tracker": tracker_of(ctx) is not None},
                          user=user)

    async def act(request: Request, user: ConsoleUser, key: str, action: str, details: dict[str, Any],
                  run: Callable[[Session], str]) -> Response:
        """Run one queue action and its audit row in one transaction (off the event loop); flash the outcome."""
        return await run_in_threadpool(act_now, request, user, key, action, details, run)

    def act_now(request: Request, user: ConsoleUser, key: str, action: str, details: dict[str, Any],
                run: Callable[[Session], str]) -> Response:
        where = f"/console/tickets/{key.upper()}" if KEY.match(key) else "/console/tickets"
        try:
            with services.db.session() as session:
                message = run(session)
                audit.record(session, actor=user.email, action=f"ticket.{action}", target=key.upper(),
                             details=details)
            flash(request, message)
        except HelpdeskError as exc:
            log.info("console ticket %s on %s refused: %s", action, key, exc.detail or exc.user_message)
            flash(request, exc.user_message, "error")
        return RedirectResponse(where, status_code=303)

    async def form(request: Request) -> dict[str, str]:
        data = await request.form()
        return {k: v.strip() for k, v in data.items() if isinstance(v, str)}

    def author(user: ConsoleUser) -> str:
        return user.display

    @router.post("/tickets/{key}/assign")
    async def assign(key: str, request: Request, user: ConsoleUser = staff) -> Response:
        f = await form(request)
        who = user.email if f.get("to") == "me" else (f.get("assignee") or None)
        if who is not None and len(who) > 200:
            who = who[:200]

        def run(s: Session) -> str:
            data = queue.assign(s, key, who, actor=user.email, sink=services.notices)
            return f"{data['key']} assigned to {data['assignee']}." if data["assignee"] else \
                f"{data['key']} is unassigned."
        return await act(request, user, key, "assign", {"assignee": who}, run)

    @router.post("/tickets/{key}/comment")
    async def comment(key: str, request: Request, user: ConsoleUser = staff) -> Response:
        text = (await form(request)).get("text", "")

        def run(s: Session) -> str:
            data = queue.comment(s, key, text, author=author(user), sink=services.notices)
            return f"Comment added to {data['key']}; the employee will get it in chat."
        return await act(request, user, key, "comment", {"chars": len(text)}, run)

    @router.post("/tickets/{key}/note")
    async def note(key: str, request: Request, user: ConsoleUser = staff) -> Response:
        text = (await form(request)).get("text", "")

        def run(s: Session) -> str:
            data = queue.note(s, key, text, author=author(user), tracker=tracker_of(ctx))
            return f"Internal note added to {data['key']} (not sent to the employee)."
        return await act(request, user, key, "note", {"chars": len(text)}, run)

    @router.post("/tickets/{key}/status")
    async def status(key: str, request: Request, user: ConsoleUser = staff) -> Response:
        value = (await form(request)).get("status", "")

        def run(s: Session) -> str:
            data = queue.set_status(s, key, value, actor=user.email, sink=services.notices,
                                    tracker=tracker_of(ctx))
            if data["backend"] == "jira":
                return f"Asked Jira to move {data['key']} to {queue.STATUS_CHOICES[value]}."
            return f"{data['key']} is now {data['status']}."
        return await act(request, user, key, "status", {"status": value}, run)

    @router.post("/tickets/{key}/priority")
    async def priority(key: str, request: Request, user: ConsoleUser = staff) -> Response:
        value = (await form(request)).get("urgency", "").lower()

        def run(s: Session) -> str:
            data = queue.set_priority(s, services.settings.ticketing, key, value, actor=user.email,
                                      tracker=tracker_of(ctx))
            return f"{data['key']} urgency is now {data['urgency']}."
        return await act(request, user, key, "priority", {"urgency": value}, run)

    @router.post("/tickets/{key}/category")
    async def category(key: str, request: Request, user: ConsoleUser = staff) -> Response:
        value = (await form(request)).get("category", "")

        def run(s: Session) -> str:
            data = queue.set_category(s, services.settings.ticketing, key, value, actor=user.email,
                                      tracker=tracker_of(ctx))
            return f"{data['key']} category is now {data['category']}."
        return await act(request, user, key, "category", {"category": value[:64]}, run)

    @router.post("/tickets/{key}/resolve")
    async def resolve(key: str, request: Request, user: ConsoleUser = staff) -> Response:
        f = await form(request)
        resolution, closing = (f.get("resolution") or "Done")[:200], f.get("text") or None

        def run(s: Session) -> str:
            data = queue.resolve(s, key, resolution=resolution, closing_comment=closing, actor=author(user),
                                 sink=services.notices)
            return f"{data['key']} resolved; the employee is told and asked to rate it."
        return await act(request, user, key, "resolve", {"resolution": resolution, "comment": bool(closing)}, run)

    @router.post("/tickets/{key}/reopen")
    async def reopen(key: str, request: Request, user: ConsoleUser = staff) -> Response:
        def run(s: Session) -> str:
            data = queue.reopen(s, key, actor=user.email, sink=services.notices)
            return f"{data['key']} reopened; the employee is told IT is on it again."
        return await act(request, user, key, "reopen", {}, run)

    @router.post("/tickets/{key}/link")
    async def link(key: str, request: Request, user: ConsoleUser = staff) -> Response:
        f = await form(request)
        other, how = f.get("other", "")[:20], f.get("how", "relates")

        def run(s: Session) -> str:
            if how == "merge":
                data = queue.merge(s, key, other, actor=user.email, sink=services.notices, tracker=tracker_of(ctx))
                return f"{key.upper()} merged into {data['key']}; its requester is told."
            queue.link(s, key, other, actor=user.email, tracker=tracker_of(ctx))
            return f"{key.upper()} and {other.upper()} are linked."
        kind = "merge" if how == "merge" else "link"
        return await act(request, user, key, kind, {"other": other.upper()}, run)

    return router
