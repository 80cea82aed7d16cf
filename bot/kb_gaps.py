"""The knowledge-base gaps as the product computes them: one place for `helpdesk kb gaps` and the console's inbox.

Gap mining (``knowledge_base.gaps``) takes the questions the bot was asked; the
bot keeps them as analytics events, and its intent model says which are within
the helpdesk's remit. This module joins the two.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.encoding import TextEncoder
from bot.errors import DataError
from bot.storage.models import AnalyticsEvent
from knowledge_base import gaps as gapmod
from knowledge_base.gaps import DECLINED, AnsweredQuestion, Gap, RemitRule
from knowledge_base.models import KbRating

if TYPE_CHECKING:
    from bot.services import Services

DEFAULT_DAYS = 90
MEMO_LIMIT = 20_000  # question vectors kept between looks (≈ 30 MB)
REUSE_SECONDS = 120.0  # a computed list is reused this long while no question was added


class _MemoEncoder:
    """The shared encoder, remembering the vectors of texts it encoded (the same questions come back every look)."""

    def __init__(self, inner: TextEncoder, memo: OrderedDict[str, np.ndarray], lock: threading.Lock) -> None:
        self.inner, self.memo, self.lock = inner, memo, lock
        self.dim = inner.dim

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        with self.lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self.memo))
        if missing:
            fresh = np.asarray(self.inner.encode(missing, batch_size=batch_size, progress=progress), dtype=np.float32)
            with self.lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self.memo[text] = vector
                while len(self.memo) > MEMO_LIMIT:
                    self.memo.popitem(last=False)
        with self.lock:
            return np.stack([self.memo[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


class GapsCache:
    """One process's recent gap lists: reused while no declined question or rating was added (and not too old)."""

    def __init__(self) -> None:
        self.memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self.lock = threading.Lock()
        self.lists: dict[int, tuple[tuple[Any, ...], float, list[Gap]]] = {}

    def find_gaps(self, services: Services, session: Session, days: int = DEFAULT_DAYS) -> list[Gap]:
        """As :func:`find_gaps`, from memory when nothing changed since the last look."""
        marker = data_marker(session)
        with self.lock:
            hit = self.lists.get(days)
        if hit is not None and hit[0] == marker and time.monotonic() - hit[1] < REUSE_SECONDS:
            return hit[2]
        found = find_gaps(services, session, days,
                          encoder=lambda: _MemoEncoder(services.encoder, self.memo, self.lock))
        with self.lock:
            self.lists[days] = (marker, time.monotonic(), found)
        return found


def data_marker(session: Session) -> tuple[Any, ...]:
    """Changes whenever a declined question or an unhelpful rating is added (count and newest id of each)."""
    asked = session.execute(select(func.count(), func.max(AnalyticsEvent.id))
                            .where(AnalyticsEvent.outcome == DECLINED)).one()
    rated = session.execute(select(func.count(), func.max(KbRating.id)).where(KbRating.helpful.is_(False))).one()
    return (*asked, *rated)


def asked_since(session: Session, since: dt.datetime) -> list[AnsweredQuestion]:
    """The declined questions of the engine's analytics since ``since``, as gap mining's input."""
    stmt = select(AnalyticsEvent).where(AnalyticsEvent.outcome == DECLINED, AnalyticsEvent.created_at >= since)
    return [AnsweredQuestion(e.question or "", e.outcome or "", e.created_at, e.top_article_id, e.kb_score,
                             e.user_key) for e in session.scalars(stmt)]


def remit_rule(services: Services) -> RemitRule | None:
    """The intent model's "within the helpdesk's remit" rule; gibberish-only until a model is trained.

    Gap listing never trains a model itself, and a remote Rasa backend leaves the list unfiltered.
    """
    from intents.remit import RemitRule as IntentRemit
    from intents.store import ModelStore

    if services.settings.nlu.backend != "builtin":
        return None
    try:
        model = ModelStore(services.settings.paths.models_dir).load()
    except DataError:
        model = None
    return IntentRemit(model)


def find_gaps(services: Services, session: Session, days: int = DEFAULT_DAYS, *,
              encoder: Callable[[], TextEncoder] | None = None) -> list[Gap]:
    """The gaps topics of the last ``days`` days: largest first, newest first among equals."""
    since = gapmod.days_ago(days)
    return gapmod.find_gaps(session, asked_since(session, since), encoder or (lambda: services.encoder),
                            kb=services.kb, since=since, remit=remit_rule(services))


__all__ = ["DEFAULT_DAYS", "GapsCache", "asked_since", "data_marker", "find_gaps", "remit_rule"]
