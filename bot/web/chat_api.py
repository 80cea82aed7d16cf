"""A small JSON API for a web chat or scripts: POST /api/v1/messages → Reply as JSON.

The caller is a trusted backend (an intranet page, a portal) that authenticates
with ``Authorization: Bearer <server.api_token>`` and vouches for the ``user``
id it sends. The API is off unless ``server.api_token`` is set. No e-mail is
accepted here, so account actions through it always end in a ticket.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Header, HTTPException
from pydantic import BaseModel, Field

from bot.engine import Engine
from bot.messages import Action, Message
from bot.notify import take_for_user
from bot.services import Services


class MessageIn(BaseModel):
    user: str = Field(..., min_length=1, max_length=200, description="A stable id of the asker")
    text: str = Field("", max_length=4000)
    action_id: str | None = Field(None, max_length=100)
    value: dict[str, Any] = Field(default_factory=dict)


def build_router(services: Services) -> APIRouter | None:
    token = services.settings.server.api_token
    if token is None:
        return None
    expected = f"Bearer {token.get_secret_value()}".encode()
    router = APIRouter(prefix="/api/v1", tags=["chat"])
    engine = Engine(services)

    @router.post("/messages")
    def post_message(body: MessageIn, authorization: str = Header("")) -> dict[str, Any]:
        """One message or button press from a user of the calling application."""
        if not hmac.compare_digest(authorization.encode(), expected):
            raise HTTPException(status_code=401, detail="missing or wrong bearer token")
        action = Action(body.action_id, body.value) if body.action_id else None
        message = Message(text=body.text, user_key=f"http:{body.user}", channel="http",
                          action=action, is_private=True)
        reply = engine.handle(message)
        if reply.sensitive:  # never over this API: credentials go to verified channels only
            reply.text = "That can only be shown in Slack. Please ask me there."
            reply.buttons = []
        with services.db.session() as session:  # ticket updates since the last call
            notes = take_for_user(session, message.user_key)
        return {**reply.to_dict(), "notifications": [n.to_dict() for n in notes]}

    return router
