"""The knowledge base: Markdown articles with version history, hybrid search, answers composed from them.

The public API below is light to import (no database, no encoder); the service
itself is ``knowledge_base.service.KnowledgeBase``, built by
``knowledge_base.factory.build_knowledge_base``.
"""

from knowledge_base.compose import best_chunk, quote, summary_sentences
from knowledge_base.index import ArticleHit, ArticleInfo, ChunkHit
from knowledge_base.search import DEFAULT_THRESHOLD, SearchResult
from knowledge_base.settings import KnowledgeBaseSettings

__all__ = ["DEFAULT_THRESHOLD", "ArticleHit", "ArticleInfo", "ChunkHit", "KnowledgeBaseSettings", "SearchResult",
           "best_chunk", "quote", "summary_sentences"]
