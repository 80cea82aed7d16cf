"""The console's landing page: what this user may do here, by role."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from bot.console.context import ConsoleContext
from bot.console.deps import ConsoleUser, require_role

NAV = ("Home", "/console/", "")
ROLE_LABELS = {"trainer": "Trainer", "it-staff": "IT staff", "admin": "Administrator"}


def build_router(ctx: ConsoleContext) -> APIRouter:
    """GET /console/ — role-aware links to every page this user may open."""
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request, user: ConsoleUser = Depends(require_role())) -> HTMLResponse:
        cards = [n for n in ctx.nav if n.href != NAV[1] and user.has(n.role)]
        roles = [ROLE_LABELS.get(r, r) for r in sorted(user.roles)]
        return ctx.render(request, "home.html", {"cards": cards, "role_labels": roles}, user=user)

    return router
