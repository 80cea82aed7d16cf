"""The one-time password reset page: GET/POST /reset/{token}.

The token (only its hash is stored) is bound to one employee and one account, works
once, expires after ``directory.reset_link_minutes`` and is cancelled after too many
bad submissions. The form carries a CSRF token that must also match a SameSite=Strict
cookie; every response is ``no-store`` with a strict Content-Security-Policy (no script
at all; the one stylesheet is allowed by its hash), no framing and no referrer.

Abuse limits: requests per live link (token hash) and, for unknown tokens, per client
address; password submissions per account and per client address; form bodies over
:data:`MAX_FORM_BYTES` are refused (413) before they are read. A submit claims the form
atomically and commits that claim *before* the directory is called (two concurrent
submits: one wins, the other gets 409); the directory is then called outside any
transaction, and the result is written in a second short one — a slow directory never
holds the database's write lock. Serve it over HTTPS in production (see README).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.errors import DirectoryError, HelpdeskError, NotPermittedError
from bot.services import Services
from bot.web.headers import security_headers
from integrations.directory import audit, tokens
from integrations.directory.client import PasswordSetFlagFailed
from integrations.directory.models import ResetLink
from integrations.directory.policy import PasswordRules
from integrations.directory.selfservice import SelfService

log = logging.getLogger(__name__)
HERE = Path(__file__).parent / "templates"
TEMPLATES = Environment(loader=FileSystemLoader(HERE), autoescape=select_autoescape(["html"]))
CSS = (HERE / "reset.css").read_text(encoding="utf-8")
CSS_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii")
CSRF_COOKIE = "helpdesk_reset_csrf"
MAX_FORM_BYTES = 4096  # csrf + two passwords of at most 128 characters fit many times over
HOUR = dt.timedelta(hours=1)
INVALID = ("This link is not valid any more. Reset links work once, for a few minutes, "
           "and only for the person they were sent to.")
CSP = ("default-src 'none'; script-src 'none'; style-src '" + CSS_HASH + "'; img-src 'none'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return (local[:1] + "•" * max(len(local) - 1, 2) + "@" + domain) if domain else "•••"


class _TooLarge(Exception):
    """The request body is over MAX_FORM_BYTES."""


async def _read_form(request: Request) -> dict[str, str]:
    """The urlencoded form, read up to MAX_FORM_BYTES (_TooLarge beyond); unknown fields are ignored."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        raise _TooLarge
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise _TooLarge
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20)
    except ValueError:
        raise _TooLarge from None
    return {k: v[0] for k, v in fields.items() if k in ("csrf", "password", "confirm") and v}


def build_router(services: Services) -> APIRouter:
    """The reset page's routes, on ``services``' database and directory."""
    router = APIRouter(tags=["reset"])
    cfg = services.settings.directory
    public_url = services.settings.server.public_url
    secure_cookie = public_url.startswith("https://")
    headers = security_headers(CSP, https=secure_cookie)
    for warning in cfg.reset_page_warnings(public_url):
        log.warning("!!! INSECURE reset page: %s !!!", warning)

    def page(status: int, *, csrf: str | None = None, extra_headers: dict[str, str] | None = None,
             **context: object) -> HTMLResponse:
        context.setdefault("title", "Choose a new password")
        context["csrf"] = csrf
        html = TEMPLATES.get_template("reset.html").render(css=CSS, **context)
        response = HTMLResponse(html, status_code=status, headers={**headers, **(extra_headers or {})})
        if csrf is not None:
            response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=secure_cookie,
                                path="/reset/", max_age=cfg.reset_link_minutes * 60)
        return response

    def error(status: int, message: str, title: str = "Link not valid",
              extra_headers: dict[str, str] | None = None) -> HTMLResponse:
        return page(status, state="error", message=message, title=title, extra_headers=extra_headers)

    def client_of(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def allowed(session: Session, request: Request, token: str, link: ResetLink | None) -> bool:
        """Requests per live link (its token hash), and per client address for unknown tokens.

        A valid link is limited on its own bucket, so employees behind one proxy address do
        not share a bucket with each other or with someone guessing tokens (run uvicorn with
        ``--proxy-headers --forwarded-allow-ips=<proxy>`` so the client address is the real one).
        """
        if link is not None:
            return audit.hit(session, f"reset_page_link:{tokens.digest(token)[:40]}",
                             cfg.reset_page_requests_per_hour, HOUR)
        return audit.hit(session, f"reset_page:{client_of(request)}", cfg.reset_page_requests_per_hour, HOUR)

    def too_many(message: str = "Too many requests. Please wait an hour and try again.") -> HTMLResponse:
        return error(429, message, "Too many requests", extra_headers={"Retry-After": "3600"})

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

    def busy_page() -> HTMLResponse:
        return error(409, "This form was already submitted and is being processed. Reload this page in a "
                     "minute; if your password was not changed, open the link from Slack again.", "Already submitted")

    @router.get("/reset/{token}", response_class=HTMLResponse)
    def show(token: str, request: Request) -> HTMLResponse:
        with services.db.session() as session:
            link = usable_link(session, request, token, "")
            if isinstance(link, HTMLResponse):
                return link
            if tokens.busy(link):
                return busy_page()
            csrf = tokens.new_csrf(link)
            return form(link, token, csrf, [])

    @router.post("/reset/{token}", response_class=HTMLResponse)
    async def submit(token: str, request: Request) -> HTMLResponse:
        try:
            data = await _read_form(request)
        except _TooLarge:
            return error(413, "That form was too large to be one of ours. Open the link from Slack again.",
                         "Request too large")
        csrf_cookie = request.cookies.get(CSRF_COOKIE)
        # The directory call blocks: run the rest in the thread pool.
        return await run_in_threadpool(_submit, token, client_of(request), request, data.get("password", ""),
                                       data.get("confirm", ""), data.get("csrf", ""), csrf_cookie)

    def _claim(token: str, client: str, request: Request, csrf_form: str,
               csrf_cookie: str | None) -> tuple[int, str, str] | HTMLResponse:
        """First short transaction: limits, CSRF, and the atomic claim (committed before the directory)."""
        with services.db.session() as session:
            link = usable_link(session, request, token, " (submit)")
            if isinstance(link, HTMLResponse):
                return link
            if tokens.busy(link):
                return busy_page()
            if not audit.hit(session, f"reset_submit_account:{tokens.digest(link.account_dn)[:40]}",
                             cfg.reset_page_submits_per_account_per_hour, HOUR) \
                    or not audit.hit(session, f"reset_submit_address:{client}",
                                     cfg.reset_page_submits_per_address_per_hour, HOUR):
                audit.record(session, actor="web", action="reset_page", result="rate_limited",
                             email=link.email, account=link.account_dn, detail=f"link #{link.id} (submit)")
                return too_many("Too many password attempts in the last hour. Please wait an hour and try "
                                "again, or ask the helpdesk bot to open a ticket for IT.")
            if not tokens.csrf_ok(link, csrf_form, csrf_cookie):
                audit.record(session, actor="web", action="reset_page", result="csrf_failed",
                             email=link.email, account=link.account_dn, detail=f"link #{link.id}")
                return error(403, "This form has expired or was not sent from this page. "
                             "Open the link from Slack again.", "Please reload")
            if services.directory is None:
                return error(503, "Password self-service is switched off. Ask the bot to open a ticket.",
                             "Not available")
            if not tokens.claim(session, link):  # a concurrent submit of this form got there first
                audit.record(session, actor="web", action="reset_page", result="duplicate_submit",
                             email=link.email, account=link.account_dn, detail=f"link #{link.id}")
                return error(409, "This form was already submitted. If your password was not changed, "
                             "open the link from Slack again.", "Already submitted")
            return link.id, link.account_dn, link.email

    def _submit(token: str, client: str, request: Request, password: str, confirm: str, csrf_form: str,
                csrf_cookie: str | None) -> HTMLResponse:
        claimed = _claim(token, client, request, csrf_form, csrf_cookie)
        if isinstance(claimed, HTMLResponse):
            return claimed
        link_id, account_dn, email = claimed
        directory = services.directory
        assert directory is not None
        service = SelfService(cfg, directory, public_url=public_url)
        outcome = service.try_reset(account_dn, email, password, confirm)  # no transaction is open here
        with services.db.session() as session:
            link = session.get(ResetLink, link_id)
            assert link is not None
            try:
                problems = service.record_reset(session, link, outcome)
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
                link.csrf_hash = None  # the claim is over: the page may show a new form
                return error(503, "The company directory isn't reachable right now, so your password was "
                             "not changed. Your link still works until it expires; try again in a few "
                             "minutes, or ask the bot to open a ticket.", "Please try again")
            except NotPermittedError as exc:
                link.csrf_hash = None
                return error(403, exc.user_message, "Not allowed")
            except HelpdeskError as exc:  # any other refusal: the password is unchanged
                log.warning("reset page: the directory refused the change: %s", exc.detail or type(exc).__name__)
                link.csrf_hash = None
                return error(503, "Your password was not changed: " + exc.user_message, "Not changed")
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
