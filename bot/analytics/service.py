"""The report as the product computes it: the figures over the configured database, with the gaps."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.analytics.figures import compute
from bot.analytics.gaps import gaps_for
from bot.analytics.period import Period
from bot.errors import HelpdeskError

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)
GAPS_UNAVAILABLE = "The top gaps could not be computed: {reason}"


def build_report(services: Services, period: Period, *, with_gaps: bool = True) -> dict[str, Any]:
    """Every figure of ``period``; the gaps need the sentence encoder (``with_gaps=False`` skips them)."""
    notes: list[str] = []
    with services.db.session() as session:
        gaps: list[dict[str, Any]] = []
        if with_gaps:
            try:
                gaps = gaps_for(services, session, period)
            except HelpdeskError as exc:  # the other figures are still worth showing
                log.warning("analytics: gaps unavailable: %s", exc.detail or exc.user_message)
                notes.append(GAPS_UNAVAILABLE.format(reason=exc.user_message))
        report = compute(session, period, gaps=gaps)
    report["notes"] = notes
    return report
