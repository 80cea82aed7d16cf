"""IT staff: the account self-service audit log (who, what, when, result; never a password) and
lockout alarms, read from the directory integration's audit table (the same rows as `helpdesk audit`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from bot.console.context import ConsoleContext
from bot.console.deps import ConsoleUser, require_role
from bot.redact import redact
from integrations.directory import audit
from integrations.directory.models import DirectoryAudit

NAV = ("Account actions", "/console/accounts", "it-staff")
LIMITS = (50, 200, 1000)


def build_router(ctx: ConsoleContext) -> APIRouter:
    """GET /accounts: the audit log (filter by requester and action) and lockout alarms."""
    router = APIRouter()
    services = ctx.services

    @router.get("/accounts", response_class=HTMLResponse)
    def accounts(request: Request, user: ConsoleUser = Depends(require_role("it-staff"))) -> Response:
        params = request.query_params
        actor = (params.get("actor") or "").strip()[:200] or None
        action = (params.get("action") or "").strip()[:40] or None
        limit = int(params["limit"]) if params.get("limit", "").isdigit() and int(params["limit"]) in LIMITS \
            else LIMITS[0]
        secrets = services.secrets
        with services.db.session() as session:
            rows = [{"id": r.id, "when": r.created_at, "actor": r.actor, "account": r.account or r.email or "-",
                     "action": r.action, "result": r.result,
                     "detail": redact(r.detail, secrets) if r.detail else ""}
                    for r in audit.recent(session, limit=limit, actor=actor, action=action)]
            actions = sorted(a for a in session.scalars(select(DirectoryAudit.action).distinct()) if a)
            alarms = [{"when": r.created_at, "detail": redact(r.detail or "", secrets)}
                      for r in audit.recent(session, limit=10, action="lockout_alarm")]
            locked = [{"when": r.created_at, "account": r.account or r.email or "-"}
                      for r in audit.recent(session, limit=200, action="lockout_seen") if r.result == "locked"]
        d = services.settings.directory
        watch = {"on": d.configured and d.watch_lockouts, "threshold": d.lockout_alarm_threshold,
                 "window": d.lockout_alarm_window_minutes}
        return ctx.render(request, "accounts/audit.html",
                          {"rows": rows, "actions": actions, "alarms": alarms, "locked": locked, "watch": watch,
                           "f": {"actor": actor or "", "action": action or "", "limit": limit}, "limits": LIMITS},
                          user=user)

    return router
