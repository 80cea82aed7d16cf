"""Who is this Slack user? ``users.info`` → verified e-mail and name, cached with an expiry."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackUser:
    """A Slack user as the bot knows them (``users.info``)."""

    user_id: str
    email: str | None = None      # from the Slack profile: verified by Slack, never typed in chat
    display_name: str | None = None
    is_bot: bool = False


class UserResolver:
    """Resolves user ids with ``users.info``; results live ``ttl`` seconds (0 = no cache)."""

    def __init__(self, client: WebClient, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[float, SlackUser]] = {}
        self._lock = threading.Lock()

    def resolve(self, user_id: str) -> SlackUser:
        now = self.clock()
        with self._lock:
            hit = self._cache.get(user_id)
            if hit is not None and hit[0] > now:
                return hit[1]
        try:
            found_user = self.client.users_info(user=user_id).get("user")
        except SlackApiError as exc:  # keep going without an e-mail; flows then ask or escalate
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return SlackUser(user_id=user_id)
        user: dict[str, Any] = found_user if isinstance(found_user, dict) else {}
        profile = user.get("profile") or {}
        name = (profile.get("display_name") or profile.get("real_name") or user.get("real_name")
                or user.get("name") or None)
        found = SlackUser(user_id=user_id, email=(profile.get("email") or None), display_name=name,
                          is_bot=bool(user.get("is_bot")))
        if self.ttl > 0:
            with self._lock:
                self._cache[user_id] = (now + self.ttl, found)
        return found

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._cache.pop(user_id, None)
