"""The one-time password reset page: GET/POST /reset/{token}.

The token (only its hash is stored) is bound to one employee and one account, works
once, expires after ``directory.reset_link_minutes`` and is cancelled after too many
bad submissions. The form carries a CSRF token that must also match a SameSite=Strict
cookie; every response is ``no-store``; a submit claims the form atomically before the
directory is called (two concurrent submits: one wins, the other gets 409); requests are
rate-limited per live link (token hash) and, for unknown tokens, per client address.
Serve it over HTTPS in production (behind a TLS-terminating proxy; see README).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from bot.errors import DirectoryError, NotPermittedError
from bot.services import Services
from integrations.directory import audit, tokens
from integrations.directory.client import PasswordSetFlagFailed
from integrations.directory.models import ResetLink
from integrations.directory.policy import PasswordRules
from integrations.directory.selfservice import SelfService

log = logging.getLogger(__name__)
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]))
CSRF_COOKIE = "helpdesk_reset_csrf"
INVALID = ("This link is not valid any more. Reset links work once, for a few minutes, "
           "and only for the person they were sent to.")
SECURITY_HEADERS = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
}


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return (local[:1] + "•" * max(len(local) - 1, 2) + "@" + domain) if domain else "•••"


def build_router(services: Services) -> APIRouter:
    """The reset page's routes, on ``services``' database and directory."""
    router = APIRouter(tags=["reset"])
    cfg = services.settings.directory
    public_url = services.settings.server.public_url
    secure_cookie = public_url.startswith("https://")

    def page(status: int, *, csrf: str | None = None, **context: object) -> HTMLResponse:
        context.setdefault("title", "Choose a new password")
        context["csrf"] = csrf
        html = TEMPLATES.get_template("reset.html").render(**context)
        response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
        if csrf is not None:
            response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=secure_cookie,
                                path="/reset/", max_age=cfg.reset_link_minutes * 60)
        return response

    def error(status: int, message: str, title: str = "Link not valid") -> HTMLResponse:
        return page(status, state="error", message=message, title=title)

    def allowed(session: Session, request: Request, token: str, link: ResetLink | None) -> bool:
        """Rate limits: per live link (its token hash), and per client address for unknown tokens.

        A valid link is limited on its own bucket, so employees behind one proxy address do
        not share a bucket with each other or with someone guessing tokens (run uvicorn with
        ``--proxy-headers --forwarded-allow-ips=<proxy>`` so the client address is the real one).
        """
        hour = dt.timedelta(hours=1)
        if link is not None:
            return audit.hit(session, f"reset_page_link:{tokens.digest(token)[:40]}",
                             cfg.reset_page_requests_per_hour, hour)
        client = request.client.host if request.client else "unknown"
        return audit.hit(session, f"reset_page:{client}", cfg.reset_page_requests_per_hour, hour)

    def too_many() -> HTMLResponse:
        return error(429, "Too many requests. Please wait an hour and try again.", "Too many requests")

    def form(link: ResetLink, token: str, csrf: str, errors: list[str], status: int = 200) -> HTMLResponse:
        rules = PasswordRules.from_settings(cfg)
        login = link.account_dn.split(",", 1)[0].split("=", 1)[-1]
        return page(status, csrf=csrf, state="form", errors=errors, rules=rules.describe(),
                    min_length=rules.min_length, login=login, masked_email=_mask(link.email),
                    action=f"/reset/{token}", expires=link.expires_at.strftime("%H:%M"))

    def usable_link(session: Session, request: Request, token: str, where: str) -> ResetLink | HTMLResponse:
        """The live link for ``token``, or the page to answer instead (rate limit, unknown, used…)."""
        link = tokens.find(session, token)
        if not allowed(session, request, token, link):
            return too_many()
        reason = tokens.why_unusable(link)
        if reason is not None:
            if link is not None:
                audit.record(session, actor="web", action="reset_page", result=f"link_{reason}",
                             email=link.email, account=link.account_dn, detail=f"link #{link.id}{where}")
            return error(410 if link is not None else 404, INVALID)
        assert link is not None
        return link

    @router.get("/reset/{token}", response_class=HTMLResponse)
    def show(token: str, request: Request) -> HTMLResponse:
        with services.db.session() as session:
            link = usable_link(session, request, token, "")
            if isinstance(link, HTMLResponse):
                return link
            csrf = tokens.new_csrf(link)
            return form(link, token, csrf, [])

    @router.post("/reset/{token}", response_class=HTMLResponse)
    async def submit(token: str, request: Request) -> HTMLResponse:
        data = await request.form()
        password = str(data.get("password") or "")
        confirm = str(data.get("confirm") or "")
        csrf_form = str(data.get("csrf") or "")
        csrf_cookie = request.cookies.get(CSRF_COOKIE)
        # The directory call blocks: run the rest in the thread pool.
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(_submit, token, request, password, confirm, csrf_form, csrf_cookie)

    def _submit(token: str, request: Request, password: str, confirm: str, csrf_form: str,
                csrf_cookie: str | None) -> HTMLResponse:
        with services.db.session() as session:
            link = usable_link(session, request, token, " (submit)")
            if isinstance(link, HTMLResponse):
                return link
            if not tokens.csrf_ok(link, csrf_form, csrf_cookie):
                audit.record(session, actor="web", action="reset_page", result="csrf_failed",
                             email=link.email, account=link.account_dn, detail=f"link #{link.id}")
                return error(403, "This form has expired or was not sent from this page. "
                             "Open the link from Slack again.", "Please reload")
            directory = services.directory
            if directory is None:
                return error(503, "Password self-service is switched off. Ask the bot to open a ticket.",
                             "Not available")
            if not tokens.claim(session, link):  # a concurrent submit of this form got there first
                audit.record(session, actor="web", action="reset_page", result="duplicate_submit",
                             email=link.email, account=link.account_dn, detail=f"link #{link.id}")
                return error(409, "This form was already submitted. If your password was not changed, "
                             "open the link from Slack again.", "Already submitted")
            try:
                service = SelfService(cfg, directory, public_url=public_url)
                problems = service.complete_reset(session, link, password, confirm)
            except PasswordSetFlagFailed as exc:  # the password IS changed; say what is missing
                log.warning("reset page: password set, follow-up failed: %s", exc.detail)
                finish = ("Ask the bot to unlock your account, or contact IT." if "unlock" in exc.step
                          else "You may be asked to choose it again when you sign in.")
                response = page(200, state="done", title="Password changed",
                                message=f"Your new password is set, but one step did not finish ({exc.step}). "
                                f"{finish}")
                response.delete_cookie(CSRF_COOKIE, path="/reset/")
                return response
            except DirectoryError as exc:
                log.warning("directory unreachable on the reset page: %s", exc.detail)
                audit.record(session, actor=link.user_key, action="reset", result="unreachable",
                             email=link.email, account=link.account_dn, detail=exc.detail)
                return error(503, "The company directory isn't reachable right now, so your password was "
                             "not changed. Your link still works until it expires; try again in a few "
                             "minutes, or ask the bot to open a ticket.", "Please try again")
            except NotPermittedError as exc:
                return error(403, exc.user_message, "Not allowed")
            if problems:
                if link.revoked_reason:
                    return error(410, "Too many attempts: this link is now cancelled. Ask the bot for a new one.",
                                 "Link cancelled")
                csrf = tokens.new_csrf(link)
                return form(link, token, csrf, problems, status=422)
            response = page(200, state="done", title="Password changed")
            response.delete_cookie(CSRF_COOKIE, path="/reset/")
            return response

    return router
