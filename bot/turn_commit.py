"""Whether a turn whose commit failed in flight was stored after all.

When the database connection drops while the COMMIT is on its way, the client
cannot know whether the server committed: the turn may be fully stored (the
answer to the commit was lost) or not at all. Answering "nothing was saved, send
it again" to a stored turn makes a retry repeat it, so the engine asks the
database again, over a fresh connection, for a short while before answering.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, select
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import StorageError
from bot.storage.models import AnalyticsEvent

if TYPE_CHECKING:
    from bot.storage.session import Database

log = logging.getLogger(__name__)
NOT_CONFIRMED = ("I couldn't confirm that I saved that: the database went away just as I was saving it. "
                 "Please wait a minute and check before sending it again, so it isn't done twice.")
_EVENTS = cast(Table, AnalyticsEvent.__table__)


def was_stored(db: Database, turn_id: str, *, tries: int = 2, wait: float = 0.5) -> bool | None:
    """True/False when the database says whether ``turn_id`` was recorded; None when it cannot be asked."""
    for attempt in range(tries):
        if attempt:
            time.sleep(wait)
        try:
            with db.session() as session:
                found = session.execute(select(_EVENTS.c.turn_id).where(_EVENTS.c.turn_id == turn_id)).first()
            return found is not None
        except (StorageError, SQLAlchemyError) as exc:
            log.info("could not check whether a turn was stored: %s", type(exc).__name__)
    return None
