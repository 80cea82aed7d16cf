"""The knowledge-base gaps as the product computes them: one place for `helpdesk kb gaps` and the console's inbox.

Gap mining (``knowledge_base.gaps``) takes the questions the bot was asked; the
bot keeps them as analytics events, and its intent model says which are within
the helpdesk's remit. This module joins the two.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import DataError
from bot.storage.models import AnalyticsEvent
from knowledge_base import gaps as gapmod
from knowledge_base.gaps import DECLINED, AnsweredQuestion, Gap, RemitRule

if TYPE_CHECKING:
    from bot.services import Services

DEFAULT_DAYS = 90


def asked_since(session: Session, since: dt.datetime) -> list[AnsweredQuestion]:
    """The declined questions of the engine's analytics since ``since``, as gap mining's input."""
    stmt = select(AnalyticsEvent).where(AnalyticsEvent.outcome == DECLINED, AnalyticsEvent.created_at >= since)
    return [AnsweredQuestion(e.question or "", e.outcome or "", e.created_at, e.top_article_id, e.kb_score)
            for e in session.scalars(stmt)]


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


def find_gaps(services: Services, session: Session, days: int = DEFAULT_DAYS) -> list[Gap]:
    """The gaps topics of the last ``days`` days: largest first, newest first among equals."""
    since = gapmod.days_ago(days)
    return gapmod.find_gaps(session, asked_since(session, since), lambda: services.encoder, kb=services.kb,
                            since=since, remit=remit_rule(services))


__all__ = ["DEFAULT_DAYS", "asked_since", "find_gaps", "remit_rule"]
