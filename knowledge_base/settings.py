"""Knowledge-base settings (owned by the knowledge base)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from bot.settings_base import Section, default_data_dir


class KnowledgeBaseSettings(Section):
    """The ``[kb]`` section: where the articles are, their public URL, the answer threshold."""

    articles_dir: Path = Field(default_factory=lambda: default_data_dir() / "kb")
    article_base_url: str = "https://intranet.example.com/kb/"
    answer_threshold: float | None = Field(default=None, description="override the calibrated threshold")
    max_related: int = Field(default=2, ge=0, le=5)
