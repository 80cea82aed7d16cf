"""Router placeholder: filled in by its capability."""

from __future__ import annotations

from fastapi import APIRouter

from bot.services import Services


def build_router(services: Services) -> APIRouter | None:
    return None
