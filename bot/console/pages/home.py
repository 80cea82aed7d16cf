"""The console's landing page: what this user may do here, grouped by role."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from bot.console.context import ConsoleContext, NavEntry
from bot.console.deps import ConsoleUser, require_role

NAV = ("Home", "/console/", "")
ROLE_LABELS = {"trainer": "Trainer", "it-staff": "IT staff", "admin": "Administrator"}
GROUPS = (("trainer", "For trainers"), ("it-staff", "For IT staff"), ("", "For everyone"))
# What a page is for, when its module has no DESCRIPTION of its own.
BLURBS = {
    "/console/articles": "Write, review and publish knowledge articles; compare versions.",
    "/console/gaps": "Questions the bot could not answer well, grouped by topic — answer, write, or dismiss.",
    "/console/intents": "Examples per intent, validation problems, retraining and the evaluation report.",
    "/console/tryit": "Ask the bot as an employee would and see why it answered that way.",
    "/console/tickets": "The built-in ticket queue: assign, comment, resolve.",
    "/console/accounts": "Account self-service audit log and lockout alarms.",
    "/console/health": "Outbox and notification queues, integration status.",
    "/console/analytics": "Conversations, deflection, ratings and trends over a period, exportable as CSV.",
}


def build_router(ctx: ConsoleContext) -> APIRouter:
    """GET /console/ — role-aware links to every page this user may open."""
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request, user: ConsoleUser = Depends(require_role())) -> HTMLResponse:
        groups: list[tuple[str, list[NavEntry]]] = []
        for role, title in GROUPS:
            entries = [NavEntry(n.label, n.href, n.role, n.description or BLURBS.get(n.href, ""))
                       for n in ctx.nav if n.role == role and n.href != NAV[1] and user.has(n.role)]
            if entries:
                groups.append((title, entries))
        roles = [ROLE_LABELS.get(r, r) for r in sorted(user.roles)]
        return ctx.render(request, "home.html", {"groups": groups, "role_labels": roles}, user=user)

    return router
