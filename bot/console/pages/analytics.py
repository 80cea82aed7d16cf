"""Analytics for every console role: the period's figures as tiles, SVG charts and top lists, each
downloadable as CSV (the same figures as `helpdesk report`, from :mod:`bot.analytics`)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from bot.analytics.html import render_body, stylesheet
from bot.analytics.period import Period, parse_period
from bot.analytics.service import build_report
from bot.analytics.tables import NAMES, table
from bot.console.context import ConsoleContext
from bot.console.deps import ConsoleUser, require_role
from bot.errors import InvalidInputError

NAV = ("Analytics", "/console/analytics", "")
DEFAULT_SINCE = "30d"
RANGES = (("Last 7 days", "7d"), ("Last 30 days", "30d"), ("Last 90 days", "90d"))


def _period(request: Request) -> Period:
    q = request.query_params
    return parse_period(q.get("since") or DEFAULT_SINCE, q.get("until") or None, q.get("by") or "day")


def _query(period: Period) -> str:
    p = period.to_dict()
    return urlencode({"since": p["since"], "until": p["until"], "by": p["by"]})


def build_router(ctx: ConsoleContext) -> APIRouter:
    """GET /analytics (the dashboard), /analytics/<figure>.csv and /analytics/report.css."""
    router = APIRouter()
    services = ctx.services
    anyone = Depends(require_role())

    @router.get("/analytics", response_class=HTMLResponse)
    async def dashboard(request: Request, user: ConsoleUser = anyone) -> Response:
        q = request.query_params
        form = {"since": q.get("since") or "", "until": q.get("until") or "", "by": q.get("by") or "day"}
        try:
            period = _period(request)
        except InvalidInputError as exc:
            return ctx.render(request, "analytics/dashboard.html",
                              {"error": exc.user_message, "form": form, "body": None, "ranges": RANGES},
                              user=user, status=400)
        report = await run_in_threadpool(build_report, services, period)
        query = _query(period)
        body = render_body(report, csv_href=lambda name: f"/console/analytics/{name}.csv?{query}")
        form = {"since": period.to_dict()["since"], "until": period.to_dict()["until"], "by": period.by}
        return ctx.render(request, "analytics/dashboard.html",
                          {"error": None, "form": form, "body": body, "report": report, "ranges": RANGES},
                          user=user)

    @router.get("/analytics/report.css")
    def css(_user: ConsoleUser = anyone) -> Response:
        return Response(stylesheet(), media_type="text/css; charset=utf-8",
                        headers={**ctx.headers, "Cache-Control": "private, max-age=300"})

    @router.get("/analytics/{figure}.csv")
    async def download(figure: str, request: Request, user: ConsoleUser = anyone) -> Response:
        if figure not in NAMES:
            return ctx.render(request, "message.html", {"title": "Not found",
                              "message": f"There is no figure of that name; the figures are {', '.join(NAMES)}."},
                              user=user, status=404)
        try:
            period = _period(request)
        except InvalidInputError as exc:
            return Response(exc.user_message, status_code=400, media_type="text/plain; charset=utf-8",
                            headers=ctx.headers)
        report = await run_in_threadpool(build_report, services, period, with_gaps=figure == "top_gaps")
        p = period.to_dict()
        name = f"helpdesk-{figure}-{p['since']}-to-{p['until']}.csv"
        return Response(table(report, figure).to_csv(), media_type="text/csv; charset=utf-8",
                        headers={**ctx.headers, "Content-Disposition": f'attachment; filename="{name}"'})

    return router
