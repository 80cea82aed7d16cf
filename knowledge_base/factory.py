"""Build the knowledge-base service from its settings section (called lazily by ``bot.services.Services.kb``)."""

from __future__ import annotations

from bot.encoding import EncoderProvider
from bot.storage.session import Database
from knowledge_base.service import KnowledgeBase
from knowledge_base.settings import KnowledgeBaseSettings


def build_knowledge_base(settings: KnowledgeBaseSettings, db: Database,
                         encoder_provider: EncoderProvider | None) -> KnowledgeBase:
    """The KB service; on first search it imports ``settings.articles_dir`` if no article exists yet."""
    return KnowledgeBase(db, encoder_provider, articles_dir=settings.articles_dir,
                         threshold=settings.answer_threshold)
