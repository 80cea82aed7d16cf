"""Knowledge-base tables: articles, their full version history, indexed chunks, ratings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base, utcnow


class KbArticle(Base):
    """The current state of one article (its id is the file path without ``.md``)."""

    __tablename__ = "kb_article"

    id: Mapped[str] = mapped_column(String(300), primary_key=True)
    path: Mapped[str] = mapped_column(String(500))  # relative to the imported folder
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="published")  # draft | published
    audience: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [] = everyone
    owner: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    review_by: Mapped[str | None] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class KbArticleVersion(Base):
    """One immutable version of an article: its exact file text and parsed metadata."""

    __tablename__ = "kb_article_version"
    __table_args__ = (UniqueConstraint("article_id", "version", name="uq_kb_article_version_article_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("kb_article.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(16))  # created | updated | retired | restored
    content_hash: Mapped[str] = mapped_column(String(64))
    raw_text: Mapped[str] = mapped_column(Text)  # the file, byte-for-byte (UTF-8)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    path: Mapped[str] = mapped_column(String(500))
    source: Mapped[str | None] = mapped_column(String(200))  # "import", "cli", ...
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class KbChunk(Base):
    """One searchable section of the current version, with its stored embedding."""

    __tablename__ = "kb_chunk"
    __table_args__ = (Index("ix_kb_chunk_article_ordinal", "article_id", "ordinal"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("kb_article.id"))
    ordinal: Mapped[int] = mapped_column(Integer)
    section: Mapped[str | None] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32 x dim


class KbRating(Base):
    """An employee's helpful / not helpful rating of an answer."""

    __tablename__ = "kb_rating"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(Text)  # redacted
    article_id: Mapped[str | None] = mapped_column(String(300), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    user_key: Mapped[str] = mapped_column(String(200))
    score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class KbCurated(Base):
    """A trainer's curated answer: a question (and its paraphrases) → an article, or a short approved answer."""

    __tablename__ = "kb_curated"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(Text)
    article_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)   # a short approved answer …
    source: Mapped[str | None] = mapped_column(String(500), nullable=True)  # … and where it comes from
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    undone_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True, index=True)


class KbDraft(Base):
    """A trainer's unpublished working copy of an article (never indexed, never served, never exported).

    ``base_version`` is the article's version the draft was started from (None: a new article),
    so publishing can tell when the article changed underneath it (e.g. a ``kb import``).
    """

    __tablename__ = "kb_draft"

    article_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    path: Mapped[str] = mapped_column(String(500))
    raw_text: Mapped[str] = mapped_column(Text)
    base_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
