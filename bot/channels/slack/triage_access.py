"""Who may work the triage cards: members of the configured IT channel and/or user group.

``slack.it_channel`` (``conversations.members``) and ``slack.it_usergroup``
(``usergroups.users.list``) are unioned; with neither set, the members of the
channel the card is in are IT. Member lists are cached for
``it_members_cache_seconds``; when Slack cannot tell, the answer is no (never
a guess in someone's favour).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config.slack import SlackSettings

log = logging.getLogger(__name__)
MAX_PAGES = 50  # 50 x 1000 members


class ItStaff:
    """Answers "is this Slack user IT staff?" from Slack's member lists, cached briefly."""

    def __init__(self, client: WebClient, settings: SlackSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.channel = settings.it_channel
        self.usergroup = settings.it_usergroup
        self.ttl = settings.it_members_cache_seconds
        self.clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def is_member(self, user_id: str, *, card_channel: str | None) -> bool:
        """Whether ``user_id`` may claim, reply and resolve (``card_channel``: where the card is)."""
        sources: list[tuple[str, str]] = []
        if self.channel:
            sources.append(("channel", self.channel))
        if self.usergroup:
            sources.append(("usergroup", self.usergroup))
        if not sources and card_channel:
            sources.append(("channel", card_channel))
        return any(user_id in self._members(kind, ident) for kind, ident in sources)

    def _members(self, kind: str, ident: str) -> frozenset[str]:
        key, now = f"{kind}:{ident}", self.clock()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            members = self._channel_members(ident) if kind == "channel" else self._group_members(ident)
        except SlackApiError as exc:
            log.warning("could not list the IT %s %s: %s", kind, ident, exc.response.get("error"))
            return frozenset()
        if self.ttl > 0:
            with self._lock:
                self._cache[key] = (now + self.ttl, members)
        return members

    def _channel_members(self, channel: str) -> frozenset[str]:
        found: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = self.client.conversations_members(channel=channel, limit=1000,
                                                     **({"cursor": cursor} if cursor else {}))
            members = page.get("members")
            found.update(m for m in (members if isinstance(members, list) else []) if isinstance(m, str))
            meta = page.get("response_metadata")
            cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
            if not cursor:
                break
        return frozenset(found)

    def _group_members(self, usergroup: str) -> frozenset[str]:
        users = self.client.usergroups_users_list(usergroup=usergroup).get("users")
        return frozenset(u for u in (users if isinstance(users, list) else []) if isinstance(u, str))
