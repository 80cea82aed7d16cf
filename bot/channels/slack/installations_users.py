"""Which installation serves each Slack user, learned from their signed requests, and its bot token.

Messages the bot sends outside a request (ticket updates, reminders, jobs recovered after a crash)
name only a user; in the OAuth install mode they go out with the token of the installation that
user was last seen through. Kept in the database, so a restarted replica knows it too.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy.exc import IntegrityError

from bot.channels.slack.installations import SqlInstallationStore
from bot.channels.slack.installations_models import SlackInstallationUser
from bot.storage.base import utcnow
from bot.storage.session import Database


class UserInstallations:
    """Which installation serves each user (learned from signed requests), and its bot token."""

    def __init__(self, db: Database, store: SqlInstallationStore, ttl: float) -> None:
        self.db = db
        self.store = store
        self.ttl = ttl
        self._seen: dict[str, tuple[str | None, str | None, bool]] = {}
        self._tokens: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def remember(self, user_id: str, enterprise_id: str | None, team_id: str | None,
                 is_enterprise_install: bool) -> None:
        """Note where ``user_id`` was seen (written only when it changed)."""
        where = (enterprise_id, team_id, is_enterprise_install)
        with self._lock:
            if self._seen.get(user_id) == where:
                return
        for _attempt in range(2):
            try:
                with self.db.session() as session:
                    row = session.get(SlackInstallationUser, user_id)
                    if row is None:
                        session.add(SlackInstallationUser(user_id=user_id, enterprise_id=enterprise_id,
                                                          team_id=team_id, is_enterprise_install=is_enterprise_install))
                    else:
                        row.enterprise_id, row.team_id = enterprise_id, team_id
                        row.is_enterprise_install, row.seen_at = is_enterprise_install, utcnow()
                break
            except IntegrityError:
                continue
        with self._lock:
            self._seen[user_id] = where
            self._tokens.pop(user_id, None)

    def bot_token(self, user_id: str) -> str | None:
        """The bot token of the installation ``user_id`` was last seen through (None: unknown user)."""
        now = time.monotonic()
        with self._lock:
            hit = self._tokens.get(user_id)
            if hit is not None and hit[0] > now:
                return hit[1]
        with self.db.session() as session:
            row = session.get(SlackInstallationUser, user_id)
            where = None if row is None else (row.enterprise_id, row.team_id, row.is_enterprise_install)
        token = None
        if where is not None:
            found = self.store.find_installation(enterprise_id=where[0], team_id=where[1],
                                                 is_enterprise_install=where[2])
            token = found.bot_token if found is not None else None
        if self.ttl > 0:
            with self._lock:
                self._tokens[user_id] = (now + self.ttl, token)
        return token
