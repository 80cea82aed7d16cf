"""Chat notifications for the tickets library's notices (filled in as the library moves to its port)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.notices import Outgoing


def render(notice: object, *, post_new_tickets: bool = True) -> "list[Outgoing] | None":
    """The notifications for notice, or None when it is not one of this library's notices."""
    return None
