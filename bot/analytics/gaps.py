"""Top gaps of a period: the knowledge-base gap topics (``knowledge_base.gaps`` clustering over the
questions ``bot.kb_gaps`` gathers), limited to questions asked or rated within ``[since, until)``."""

from __future__ import annotations

import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.analytics.period import Period
from bot.encoding import EncoderProvider
from bot.kb_gaps import asked_since, data_marker, remit_rule
from knowledge_base import gaps as gapmod

if TYPE_CHECKING:
    from bot.services import Services
    from knowledge_base.service import KnowledgeBase

TOP = 10
KEEP = 16  # periods whose gaps are remembered (a dashboard is looked at again and again) ...
REUSE_SECONDS = 300.0  # ... for at most this long (an edited article may become a gap's nearest one)
_lock = threading.Lock()
# per bot (the Services object itself, not its id(): a freed object's id is reused by the next one)
_recent: weakref.WeakKeyDictionary[Services, dict[tuple[Any, ...], tuple[float, list[dict[str, Any]]]]] = (
    weakref.WeakKeyDictionary())


def top_gaps(session: Session, period: Period, encoder_provider: EncoderProvider, *,
             kb: KnowledgeBase | None = None, remit: gapmod.RemitRule | None = None,
             top: int = TOP) -> list[dict[str, Any]]:
    """The ``top`` largest gap topics of the period (as ``kb gaps --json`` lists them)."""
    asked = [q for q in asked_since(session, period.since) if q.at < period.until]
    found = gapmod.find_gaps(session, asked, encoder_provider, kb=kb, since=period.since, remit=remit)
    kept = []
    for gap in found:  # ratings are read from ``since`` on: leave out those after the period
        gap.questions = [q for q in gap.questions if q.at < period.until]
        if gap.questions:
            kept.append(gap)
    kept.sort(key=lambda g: (-g.count, -g.newest.timestamp()))
    return [g.to_dict() for g in kept[:top]]


def gaps_for(services: Services, session: Session, period: Period) -> list[dict[str, Any]]:
    """The period's top gaps with the product's encoder, knowledge base and remit rule; remembered for the
    period a few minutes, until a declined question or an unhelpful rating is added (``bot.kb_gaps.data_marker``)."""
    key = (period, *data_marker(session))
    with _lock:
        hit = _recent.get(services, {}).get(key)
    if hit is not None and time.monotonic() - hit[0] < REUSE_SECONDS:
        return hit[1]
    found = top_gaps(session, period, lambda: services.encoder, kb=services.kb, remit=remit_rule(services))
    with _lock:
        remembered = _recent.setdefault(services, {})
        remembered[key] = (time.monotonic(), found)
        while len(remembered) > KEEP:
            remembered.pop(next(iter(remembered)))
    return found
