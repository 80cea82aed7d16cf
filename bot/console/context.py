"""What every console page gets: services, templates, settings, and ``render``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.config.console import ConsoleSettings
from bot.services import Services
from bot.web import headers as web_headers

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'")


def security_headers(secure: bool) -> dict[str, str]:
    """The headers on every console response (+ HSTS when the public URL is https)."""
    return web_headers.security_headers(CSP, https=secure)


def make_templates() -> Environment:
    """The console's Jinja2 environment over bot/console/templates (autoescaped)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env


@dataclass(frozen=True)
class NavEntry:
    """One link in the console's navigation: shown to users who have ``role`` ("" = any console role)."""

    label: str
    href: str
    role: str
    description: str = ""  # the page module's optional DESCRIPTION (one sentence, for the landing page)


@dataclass
class ConsoleContext:
    """Handed to every page module's ``build_router``."""

    services: Services
    templates: Environment
    settings: ConsoleSettings
    secure: bool = False  # the public URL is https: Secure cookies with the __Host- prefix, HSTS
    nav: list[NavEntry] = field(default_factory=list)
    oidc: dict[str, Any] = field(default_factory=dict)  # provider name → bot.console.oidc.OidcClient

    @property
    def public_url(self) -> str:
        return self.services.settings.server.public_url.rstrip("/")

    @property
    def cookie_name(self) -> str:
        return "__Host-helpdesk_console" if self.secure else "helpdesk_console"

    @property
    def pre_cookie_name(self) -> str:
        """The pre-sign-in cookie (binds an OIDC round trip / login-link form to this browser)."""
        return "__Host-helpdesk_console_pre" if self.secure else "helpdesk_console_pre"

    @property
    def headers(self) -> dict[str, str]:
        return security_headers(self.secure)

    def render(self, request: Request, template: str, context: dict[str, Any] | None = None, *,
               user: Any = None, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
        """Render ``template`` with ``user``, ``csrf_token``, ``nav``, ``flash`` and the security headers."""
        from bot.console.deps import current_user, take_flash

        if user is None:
            user = current_user(request)
        values: dict[str, Any] = {
            "request": request,
            "user": user,
            "csrf_token": getattr(request.state, "console_csrf", None) or "",
            "nav": [n for n in self.nav if user is not None and user.has(n.role)],
            "flash": take_flash(request) if user is not None else [],
            "path": request.url.path,
        }
        values.update(context or {})
        html = self.templates.get_template(template).render(values)
        return HTMLResponse(html, status_code=status, headers={**self.headers, **(headers or {})})


def context_of(request: Request) -> ConsoleContext:
    """The console context of the app serving this request."""
    ctx: ConsoleContext = request.app.state.console
    return ctx
