"""Build the knowledge-base service from settings (called lazily by bot.services.Services.kb)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.storage.session import Database
from knowledge_base.service import KnowledgeBase


def build_knowledge_base(settings: Any, db: Database, encoder_provider: Callable[[], Any] | None) -> KnowledgeBase:
    """The KB service; on first search it imports ``settings.kb.articles_dir`` if no article exists yet."""
    return KnowledgeBase(settings, db, encoder_provider)
