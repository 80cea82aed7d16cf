"""A small JSON API for web chat and scripts: POST /api/v1/messages → Reply as JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bot.engine import Engine
from bot.messages import Action, Message
from bot.services import Services


class MessageIn(BaseModel):
    user: str = Field(..., min_length=1, max_length=200, description="A stable id of the asker")
    text: str = Field("", max_length=4000)
    action_id: str | None = Field(None, max_length=100)
    value: dict[str, Any] = Field(default_factory=dict)


def build_router(services: Services) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["chat"])
    engine = Engine(services)

    @router.post("/messages")
    def post_message(body: MessageIn) -> dict[str, Any]:
        """Anonymous web chat: no verified e-mail, so account actions become tickets."""
        action = Action(body.action_id, body.value) if body.action_id else None
        message = Message(text=body.text, user_key=f"http:{body.user}", channel="http",
                          action=action, is_private=True)
        return engine.handle(message).to_dict()

    return router
