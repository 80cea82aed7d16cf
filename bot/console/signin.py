"""Sign-in routes: the sign-in page, one-time login links, OpenID Connect, sign-out.

Sign-in routes carry no session yet, so they are outside the central CSRF check; each has its own:
an OIDC round trip is bound to the browser by a pre-sign-in cookie and the ``state``; the login-link
form by a double-submit value (cookie + form field). Sign-out is an ordinary CSRF-checked POST.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.console import audit, sessions
from bot.console.context import ConsoleContext
from bot.console.deps import csrf_guard, current_user
from bot.console.oidc import SignInError
from bot.console.roles import roles_for
from integrations.directory import audit as rate  # the shared, race-free rate counters

log = logging.getLogger(__name__)
PRE_COOKIE_SECONDS = sessions.OIDC_STATE_MINUTES * 60
HOUR = dt.timedelta(hours=1)
LINK_INVALID = ("This sign-in link is not valid any more. Links work once, for a few minutes; "
                "ask an administrator for a new one.")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path inside the console (no other site, no dot segments), else home."""
    if not value or any(c in value for c in "\\\r\n\t") or len(value) > 2000:
        return "/console/"
    path = value.split("?", 1)[0].split("#", 1)[0]
    inside = path == "/console" or path.startswith("/console/")
    if inside and "//" not in path and "/." not in path and "%2e" not in path.lower():
        return value
    return "/console/"


def login_url(next_path: str) -> str:
    """The sign-in page, coming back to ``next_path`` afterwards."""
    return "/console/login?next=" + quote(next_path, safe="/")


def set_session_cookie(ctx: ConsoleContext, response: Response, value: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure + __Host- on https; lives as long as the session may."""
    response.set_cookie(ctx.cookie_name, value, httponly=True, samesite="lax", secure=ctx.secure,
                        path="/" if ctx.secure else "/console", max_age=ctx.settings.session_max_hours * 3600)


def clear_cookie(ctx: ConsoleContext, response: Response, name: str) -> None:
    """Remove a console cookie (same path and flags as when it was set)."""
    response.delete_cookie(name, path="/" if ctx.secure else "/console", secure=ctx.secure, httponly=True,
                           samesite="lax")


def set_pre_cookie(ctx: ConsoleContext, response: Response, value: str) -> None:
    """The pre-sign-in cookie (Lax: it must come back with the identity provider's redirect)."""
    response.set_cookie(ctx.pre_cookie_name, value, httponly=True, samesite="lax", secure=ctx.secure,
                        path="/" if ctx.secure else "/console", max_age=PRE_COOKIE_SECONDS)


def finish_sign_in(ctx: ConsoleContext, request: Request, *, email: str, name: str, via: str,
                   next_url: str) -> Response:
    """Resolve roles, start the session, record it, set the cookie and go on."""
    roles = roles_for(ctx.services, email)
    with ctx.services.db.session() as db:
        sessions.end(db, request.cookies.get(ctx.cookie_name))  # a sign-in replaces this browser's old session
        cookie = sessions.start(db, ctx.settings, email=email, name=name, roles=roles, via=via)
        audit.record(db, actor=email.lower(), action="signin", target=email.lower(),
                     details={"via": via, "roles": sorted(roles)})
    log.info("console sign-in: %s via %s (roles: %s)", email.lower(), via, ",".join(sorted(roles)) or "none")
    response = RedirectResponse(safe_next(next_url), status_code=303, headers=ctx.headers)
    set_session_cookie(ctx, response, cookie)
    clear_cookie(ctx, response, ctx.pre_cookie_name)
    return response


def build_router(ctx: ConsoleContext) -> APIRouter:
    """The sign-in and sign-out routes (relative to /console)."""
    router = APIRouter()

    def message_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
        return ctx.render(request, "message.html", {"title": title, "message": message}, status=status)

    def too_many(request: Request) -> HTMLResponse | None:
        """The 429 page when this address started too many sign-ins this hour (None: go ahead)."""
        client = request.client.host if request.client else "unknown"
        with ctx.services.db.session() as db:
            ok = rate.hit(db, f"console_signin:{client}", ctx.settings.sign_ins_per_hour, HOUR)
        if ok:
            return None
        page = message_page(request, 429, "Too many sign-ins", "Too many sign-in attempts from your address. "
                            "Please wait an hour and try again.")
        page.headers["Retry-After"] = "3600"
        return page

    @router.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str | None = None, signed_out: str | None = None  # noqa: A002
                   ) -> Response:
        user = current_user(request)
        target = safe_next(next)
        if user is not None and user.roles:
            return RedirectResponse(target, status_code=303, headers=ctx.headers)
        providers = [{"name": p.name, "label": p.button,
                      "href": f"/console/login/oidc/{p.name}?next={quote(target, safe='/')}"}
                     for p in ctx.settings.providers()]
        return ctx.render(request, "login.html", {"providers": providers, "next": target,
                                                  "signed_out": signed_out is not None}, user=user)

    @router.get("/login/link/{token}", response_class=HTMLResponse)
    def link_page(token: str, request: Request) -> Response:
        with ctx.services.db.session() as db:
            link = sessions.find_link(db, token)
            problem = sessions.link_problem(link)
            email = link.email if link is not None else ""
        if problem is not None:
            return message_page(request, 404 if problem == "unknown" else 410, "Link not valid", LINK_INVALID)
        form_token = sessions.new_token()
        response = ctx.render(request, "login_link.html", {"email": email, "form_token": form_token,
                                                           "action": f"/console/login/link/{token}"})
        set_pre_cookie(ctx, response, form_token)
        return response

    @router.post("/login/link/{token}", response_class=HTMLResponse)
    async def link_submit(token: str, request: Request) -> Response:
        form = await request.form()
        submitted = form.get("form_token")
        pre = request.cookies.get(ctx.pre_cookie_name)
        if not isinstance(submitted, str) or not pre or not hmac.compare_digest(submitted, pre):
            return message_page(request, 403, "Please try again",
                                "This sign-in form has expired. Open the link again.")
        refused = await run_in_threadpool(too_many, request)
        if refused is not None:
            return refused
        return await _claim(request, token)

    async def _claim(request: Request, token: str) -> Response:
        def claim() -> tuple[str | None, Any]:
            with ctx.services.db.session() as db:
                link = sessions.claim_link(db, token)
                if link is None:
                    return None, None
                audit.record(db, actor=link.email, action="login_link.use", target=link.email,
                             details={"link": link.id})
                return link.email, link.id

        email, _ = await run_in_threadpool(claim)
        if email is None:
            return message_page(request, 410, "Link not valid", LINK_INVALID)
        return await run_in_threadpool(finish_sign_in, ctx, request, email=email, name="", via="link",
                                       next_url="/console/")

    @router.get("/login/oidc/{name}")
    def oidc_start(name: str, request: Request, next: str | None = None) -> Response:  # noqa: A002
        client = ctx.oidc.get(name)
        if client is None:
            return message_page(request, 404, "Not found", "There is no such sign-in provider.")
        refused = too_many(request)
        if refused is not None:
            return refused
        state, nonce, verifier, browser = (sessions.new_token(), sessions.new_token(),
                                           secrets.token_urlsafe(48), sessions.new_token())
        try:
            url = client.authorization_url(state=state, nonce=nonce, code_verifier=verifier)
        except SignInError as exc:
            log.warning("console sign-in via %s unavailable: %s", name, exc.detail or exc.user_message)
            return message_page(request, 502, "Sign-in unavailable", exc.user_message)
        with ctx.services.db.session() as db:
            sessions.remember_oidc(db, state=state, browser=browser, provider=name, nonce=nonce,
                                   code_verifier=verifier, next_url=safe_next(next))
        response = RedirectResponse(url, status_code=303, headers=ctx.headers)
        set_pre_cookie(ctx, response, browser)
        return response

    @router.get("/login/callback/{name}")
    def oidc_callback(name: str, request: Request, code: str | None = None, state: str | None = None,
                      error: str | None = None) -> Response:
        client = ctx.oidc.get(name)
        if client is None:
            return message_page(request, 404, "Not found", "There is no such sign-in provider.")
        with ctx.services.db.session() as db:
            pending = sessions.take_oidc(db, state=state, browser=request.cookies.get(ctx.pre_cookie_name),
                                         provider=name)
            saved = (pending.nonce, pending.code_verifier, pending.next_url) if pending is not None else None
        if error is not None:
            log.info("console sign-in via %s: the provider answered %s", name, error[:60])
            return message_page(request, 401, "Not signed in",
                                "The sign-in was cancelled or refused at the identity provider.")
        if saved is None or not code:
            return message_page(request, 400, "Please try again",
                                "This sign-in expired or was not started in this browser. Start again from the "
                                "sign-in page.")
        nonce, verifier, next_url = saved
        try:
            who = client.identity(code=code, code_verifier=verifier, nonce=nonce)
        except SignInError as exc:
            log.warning("console sign-in via %s refused: %s", name, exc.detail or exc.user_message)
            with ctx.services.db.session() as db:
                audit.record(db, actor="unknown", action="signin.refused", target=name,
                             details={"via": f"oidc:{name}", "reason": (exc.detail or exc.user_message)[:200]})
            return message_page(request, 401, "Not signed in", exc.user_message)
        return finish_sign_in(ctx, request, email=who.email, name=who.name, via=f"oidc:{name}", next_url=next_url)

    @router.post("/logout", dependencies=[Depends(csrf_guard)])
    def logout(request: Request) -> Response:
        with ctx.services.db.session() as db:
            row = sessions.end(db, request.cookies.get(ctx.cookie_name))
            if row is not None:
                audit.record(db, actor=row.email, action="signout", target=row.email)
        response = RedirectResponse("/console/login?signed_out=1", status_code=303, headers=ctx.headers)
        clear_cookie(ctx, response, ctx.cookie_name)
        return response

    return router
