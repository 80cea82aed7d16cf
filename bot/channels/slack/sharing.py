"""The replies kept for "Share in channel": stored when shown ephemerally, taken once by their owner."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CursorResult, delete

from bot.channels.slack.blocks import SHARE_ACTION
from bot.channels.slack.models import SlackSharedReply
from bot.channels.slack.texts import SHARE_BUTTON
from bot.messages import Button, Reply
from bot.storage.session import Database


class SharedReplies:
    """``keep`` an ephemeral answer under its turn id; ``take`` hands it back to its owner, once."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def keep(self, reply: Reply, *, user_id: str) -> Button:
        """Store ``reply`` (it must have a turn id) and return the button that shares it."""
        if not reply.turn_id:
            raise ValueError("only a reply with a turn id can be shared")
        with self.db.session() as session:
            session.add(SlackSharedReply(turn_id=reply.turn_id, user_id=user_id, reply=reply.to_dict()))
        return Button(SHARE_BUTTON, SHARE_ACTION, {"turn": reply.turn_id})

    def take(self, turn_id: str, *, user_id: str) -> Reply | None:
        """The stored reply if ``user_id`` owns it (and it is then forgotten); None otherwise."""
        with self.db.session() as session:
            row = session.get(SlackSharedReply, turn_id)
            if row is None or row.user_id != user_id:
                return None
            stored = dict(row.reply)
            session.delete(row)
        return Reply.from_dict(stored)

    def purge(self, older_than: dt.datetime) -> int:
        """Forget the replies nobody shared before ``older_than``."""
        with self.db.session() as session:
            gone = session.execute(delete(SlackSharedReply).where(SlackSharedReply.created_at < older_than))
        return gone.rowcount if isinstance(gone, CursorResult) else 0
