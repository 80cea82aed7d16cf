"""Who is signed in, role checks, CSRF, and one-shot flash messages.

``user: ConsoleUser = Depends(require_role("trainer"))`` in a page's route: not signed in → a GET is
sent to the sign-in page (303), anything else gets 401; signed in without the role → the 403 page.
Roles: "trainer", "it-staff", "admin" (admin implies every role); a live session's roles are checked
again at most every ``console.role_check_seconds`` (``bot.console.rolecheck``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from bot.console import sessions
from bot.console.context import context_of
from bot.console.models import ConsoleSession
from bot.console.rolecheck import SessionRoles, current_roles

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class ConsoleUser:
    """A signed-in console user."""

    email: str
    name: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        """Whether this user may act as ``role`` (admin implies every role; "" = any console role)."""
        if not self.roles:
            return False
        return not role or "admin" in self.roles or role in self.roles

    @property
    def display(self) -> str:
        return self.name or self.email


class NotSignedIn(Exception):
    """No live console session on this request."""


class Forbidden(Exception):
    """Signed in, but without a role this page needs."""

    def __init__(self, user: ConsoleUser, needed: tuple[str, ...]) -> None:
        super().__init__("forbidden")
        self.user = user
        self.needed = needed


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token."""


def current_user(request: Request) -> ConsoleUser | None:
    """The signed-in user of this request (looked up once per request, roles re-checked when due), or None."""
    if hasattr(request.state, "console_user"):
        user: ConsoleUser | None = request.state.console_user
        return user
    ctx = context_of(request)
    cookie = request.cookies.get(ctx.cookie_name)
    user, session_id, seen, name = None, None, None, ""
    if cookie:
        with ctx.services.db.session() as db:
            row = sessions.live(db, ctx.settings, cookie)
            if row is not None:
                seen, name = SessionRoles.of(row), row.name
    if seen is not None:  # roles checked again when due (outside the transaction: the directory may be slow)
        user = ConsoleUser(seen.email, name, current_roles(ctx.services, seen))
        session_id = seen.session_id
    request.state.console_user = user
    request.state.console_session_id = session_id
    request.state.console_csrf = sessions.csrf_for(cookie) if user is not None and cookie else None
    return user


def require_role(*roles: str) -> Callable[[Request], ConsoleUser]:
    """A dependency: the signed-in user when they have one of ``roles`` (none given: any console role)."""
    needed = tuple(roles) or ("",)

    def dependency(request: Request) -> ConsoleUser:
        user = current_user(request)
        if user is None:
            raise NotSignedIn()
        if not any(user.has(role) for role in needed):
            raise Forbidden(user, tuple(roles))
        return user

    return dependency


async def csrf_guard(request: Request) -> None:
    """Every non-GET request under /console must be signed in and carry the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    user = await run_in_threadpool(current_user, request)
    if user is None:
        raise NotSignedIn()
    submitted = request.headers.get(CSRF_HEADER)
    if not submitted:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
    cookie = request.cookies.get(context_of(request).cookie_name) or ""
    if not sessions.csrf_matches(cookie, submitted):
        raise CsrfRefused()


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """Show ``message`` once on the signed-in user's next page (kind: ok, error, info)."""
    current_user(request)
    session_id = getattr(request.state, "console_session_id", None)
    if session_id is None:
        return
    with context_of(request).services.db.session() as db:
        row = db.get(ConsoleSession, session_id)
        if row is not None:
            sessions.push_flash(row, message, kind)


def take_flash(request: Request) -> list[dict[str, Any]]:
    """The queued flash messages of this request's session (removed once shown)."""
    session_id = getattr(request.state, "console_session_id", None)
    if session_id is None:
        return []
    with context_of(request).services.db.session() as db:
        row = db.get(ConsoleSession, session_id)
        return sessions.pop_flash(row) if row is not None else []
