"""Database access: the declarative base, sessions and migrations."""

from bot.storage.base import Base, utcnow
from bot.storage.session import Database

__all__ = ["Base", "Database", "utcnow"]
