"""The web console for trainers and IT staff, under /console on `helpdesk serve`.

:func:`build_router` returns a router holding the console as its own small ASGI app mounted at
/console, so that one place adds the security headers to every console response (pages, redirects,
errors, static files) and handles "not signed in" / "no role" / "bad CSRF" the same way everywhere.
The sign-in routes live in :mod:`bot.console.signin`; every other page is a module listed in
:data:`bot.console.pages.PAGE_MODULES` whose routes are CSRF-checked centrally.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.console.context import STATIC_DIR, ConsoleContext, NavEntry, make_templates, security_headers
from bot.console.deps import CsrfRefused, Forbidden, NotSignedIn, csrf_guard
from bot.console.pages import PAGE_MODULES
from bot.services import Services

log = logging.getLogger(__name__)
PREFIX = "/console"


class SecurityHeaders:
    """ASGI middleware: the console's security headers on every response it sends."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in self.headers if k not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)


def build_context(services: Services) -> ConsoleContext:
    """The context handed to every page module."""
    from bot.console.oidc import OidcClient

    ctx = ConsoleContext(services=services, templates=make_templates(), settings=services.settings.console,
                         secure=services.settings.server.public_url.startswith("https://"))
    for provider in ctx.settings.providers():
        ctx.oidc[provider.name] = OidcClient(provider, f"{ctx.public_url}/console/login/callback/{provider.name}")
    return ctx


def build_app(ctx: ConsoleContext) -> FastAPI:
    """The console as an ASGI app (mounted at /console)."""
    from bot.console import signin

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = ctx
    _install_handlers(app, ctx)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(signin.build_router(ctx))
    for name in PAGE_MODULES:
        module = importlib.import_module(f"bot.console.pages.{name}")
        nav = getattr(module, "NAV", None)
        if nav is not None:
            label, href, role = nav
            ctx.nav.append(NavEntry(label, href, role, str(getattr(module, "DESCRIPTION", ""))))
        app.include_router(module.build_router(ctx), dependencies=[Depends(csrf_guard)])
    return app


def _install_handlers(app: FastAPI, ctx: ConsoleContext) -> None:
    def page(request: Request, status: int, title: str, message: str, **extra: Any) -> HTMLResponse:
        return ctx.render(request, "message.html", {"title": title, "message": message, **extra}, status=status)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        from bot.console.signin import login_url

        if request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(login_url(target), status_code=303)
        return page(request, 401, "Please sign in", "Your session has ended. Sign in again and repeat this.")

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return ctx.render(request, "forbidden.html", {"needed": exc.needed}, user=exc.user, status=403)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _exc: CsrfRefused) -> Response:
        return page(request, 403, "Please try again",
                    "This form had expired or did not come from the console. Reload the page and repeat this.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Not allowed", 413: "Too large", 429: "Too many requests"}
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else \
            "There is nothing here. Check the address, or start from the console's home page."
        return page(request, exc.status_code, titles.get(exc.status_code, "Cannot do that"), message)

    @app.exception_handler(Exception)
    def crashed(request: Request, _exc: Exception) -> Response:
        """A bug or an outage: a plain page (no stack trace; uvicorn logs the exception). The database is not
        asked again (it may be what failed), so the page has no navigation."""
        request.state.console_user = None
        return page(request, 500, "Something went wrong",
                    "The console could not do that. Nothing was lost; try again in a moment, and tell your "
                    "administrator if it keeps happening.")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        return page(request, 400, "Please check the form",
                    "These fields are missing or invalid: " + (", ".join(fields) or "(the request)") + ".")


def build_router(services: Services) -> APIRouter | None:
    """The console (None when ``console.enabled`` is off)."""
    if not services.settings.console.enabled:
        return None
    ctx = build_context(services)
    app = build_app(ctx)
    router = APIRouter(include_in_schema=False)
    headers = ctx.headers

    @router.get(PREFIX)
    def console_root() -> Response:
        return RedirectResponse(PREFIX + "/", status_code=308, headers=headers)

    # outermost: the headers are on every response, even the 500 page sent by Starlette's error middleware
    router.mount(PREFIX, SecurityHeaders(app, security_headers(ctx.secure)), name="console")
    return router


def _flatten(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(full path, route) for every route, looking inside included routers (FastAPI wraps them)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _flatten(inner.routes, prefix + str(getattr(context, "prefix", "") or ""))
        else:
            yield prefix + str(getattr(route, "path", "")), route


def console_app(app: FastAPI) -> FastAPI | None:
    """The console's own app inside the server's app, or None."""
    for path, route in _flatten(list(app.routes)):
        inner = getattr(getattr(route, "app", None), "app", None)  # Mount → SecurityHeaders → the console app
        if path == PREFIX and isinstance(inner, FastAPI):
            return inner
    return None


def console_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, full path) of every console route (sign-in routes and static files included)."""
    inner = console_app(app)
    found: list[tuple[str, str]] = []
    for path, route in _flatten(list(inner.routes) if inner is not None else []):
        for method in sorted(getattr(route, "methods", None) or ()):
            found.append((method, PREFIX + path))
    return found


__all__ = ["build_router", "build_app", "console_app", "console_routes", "ConsoleContext"]
