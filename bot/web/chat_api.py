"""A small JSON API for a web chat or scripts: POST /api/v1/messages → Reply as JSON.

The caller is a trusted backend (an intranet page, a portal) that authenticates
with ``Authorization: Bearer <server.api_token>`` and vouches for the ``user``
id it sends. The API is off unless ``server.api_token`` is set. No e-mail is
accepted here, so account actions through it always end in a ticket.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from bot.engine import Engine
from bot.errors import StorageError
from bot.messages import Action, Message, Reply
from bot.notify import take_for_user
from bot.redact import redact
from bot.services import Services
from bot.web.errors import valid_unicode
from bot.web.limits import RateLimiter, retry_after_header

log = logging.getLogger(__name__)


class MessageIn(BaseModel):
    """One message or button press sent to the chat API."""

    user: Annotated[str, AfterValidator(valid_unicode)] = Field(
        ..., min_length=1, max_length=200, description="A stable id of the asker")
    text: Annotated[str, AfterValidator(valid_unicode)] = Field("", max_length=4000)
    action_id: str | None = Field(None, max_length=100)
    value: dict[str, Any] = Field(default_factory=dict)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def build_router(services: Services) -> APIRouter | None:
    """POST /api/v1/messages, or None when ``server.api_token`` is unset (the API is off)."""
    token = services.settings.server.api_token
    if token is None:
        return None
    expected = f"Bearer {token.get_secret_value()}".encode()
    router = APIRouter(prefix="/api/v1", tags=["chat"])
    engine = Engine(services)
    limits = services.settings.server
    per_ip = RateLimiter(limits.api_requests_per_minute_per_ip)
    auth_failures = RateLimiter(limits.auth_failures_per_minute)
    per_user = RateLimiter(limits.api_messages_per_minute)

    def refuse(wait: float, what: str) -> HTTPException:
        return HTTPException(status_code=429, detail=f"too many {what}; try again in {max(1, round(wait))} s",
                             headers=retry_after_header(wait))

    @router.post("/messages")
    def post_message(body: MessageIn, request: Request, authorization: str = Header("")) -> dict[str, Any]:
        """One message or button press from a user of the calling application."""
        client = _client(request)
        if (wait := per_ip.hit(client)) is not None:
            raise refuse(wait, "requests from this address")
        if not hmac.compare_digest(authorization.encode(), expected):
            if (wait := auth_failures.hit(client)) is not None:
                raise refuse(wait, "failed sign-ins from this address")
            raise HTTPException(status_code=401, detail="missing or wrong bearer token")
        if redact(body.user) != body.user:
            raise HTTPException(status_code=422, detail="user must be an id, not a credential")
        if (wait := per_user.hit(body.user)) is not None:
            raise refuse(wait, "messages from this user")
        action = Action(body.action_id, body.value) if body.action_id else None
        message = Message(text=body.text, user_key=f"http:{body.user}", channel="http",
                          action=action, is_private=True)
        reply = engine.handle(message)
        if reply.sensitive:  # never over this API: credentials go to verified channels only
            reply.text = "That can only be shown in Slack. Please ask me there."
            reply.buttons = []
        return {**reply.to_dict(plain=True),
                "notifications": [n.to_dict(plain=True) for n in pending_for(message.user_key)]}

    def pending_for(user_key: str) -> list[Reply]:
        """Ticket updates since the last call; the turn is already stored, so a database
        hiccup here must not turn its reply into an error (they are picked up next time)."""
        try:
            with services.db.session() as session:
                return take_for_user(session, user_key)
        except (StorageError, SQLAlchemyError) as exc:
            log.warning("notifications for an API user not fetched: %s", type(exc).__name__)
            return []

    return router
