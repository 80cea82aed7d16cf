"""The analytics figures over a period, each one SQL aggregate that runs on SQLite and PostgreSQL.

Definitions (the README's "Analytics" section says the same in prose):

- a *turn* is one row of ``analytics_event`` (one message or button press and the bot's reply);
- a *conversation* is a run of one employee's turns (same ``user_key``, any channel) with no gap
  longer than :data:`IDLE_MINUTES`; it counts in the bucket of its first turn;
- *answered* / *declined* are turns with those outcomes; an answered turn is *deflected* when the same
  employee neither rated that answer "Not helpful" nor opened a ticket within :data:`WINDOW_HOURS`
  hours after it (so the last day's deflection can still drop);
- *escalated* is tickets opened (``ticket.created_at``); *CSAT* is the share of rated tickets rated 4 or 5
  (1-5 scale), each ticket once with its current rating, in the bucket of its latest rating;
- *account actions* are the directory audit rows of :data:`ACCOUNT_ACTIONS`, by result;
- turns of :data:`TRIAL_CHANNELS` (a trainer's "Try it") are left out of every figure.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.analytics.period import Period
from bot.analytics.sql import at_most, bucket, longer_than
from bot.storage.models import AnalyticsEvent
from integrations.directory.models import DirectoryAudit
from integrations.ticketing.models import Ticket, TicketEvent
from knowledge_base.models import KbArticle, KbRating

IDLE_MINUTES = 30
WINDOW_HOURS = 24
ACCOUNT_ACTIONS = ("unlock", "reset_link", "temporary_password", "reset")
TRIAL_CHANNEL = "console-trial"  # the channel of a console trainer's "Try it" turns (bot.console.pages.tryit_run)
TRIAL_CHANNELS: tuple[str, ...] = (TRIAL_CHANNEL,)
SATISFIED = 4  # a ticket rating of at least this counts as satisfied
TOP = 10
TREND_KEYS = ("conversations", "turns", "answered", "deflected", "declined", "escalated", "account_actions",
              "helpful", "not_helpful")

A, R, T = AnalyticsEvent, KbRating, Ticket


def _in(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.since, column < period.until)


def _real(period: Period) -> ColumnElement[bool]:
    """Turns of the period, trainers' trials left out."""
    return and_(_in(A.created_at, period), A.channel.not_in(TRIAL_CHANNELS))


def _per_bucket(session: Session, stmt: Any) -> dict[str, int]:
    return {str(b): int(n) for b, n in session.execute(stmt)}


def conversations(session: Session, period: Period) -> dict[str, int]:
    """Conversations started per bucket (a turn after more than ``IDLE_MINUTES`` of silence starts one)."""
    idle = dt.timedelta(minutes=IDLE_MINUTES)
    prev = func.lag(A.created_at).over(partition_by=A.user_key, order_by=(A.created_at, A.id))
    turns = (select(A.created_at.label("at"), prev.label("prev"))
             .where(A.created_at >= period.since - idle, A.created_at < period.until,
                    A.channel.not_in(TRIAL_CHANNELS)).subquery())
    b = bucket(turns.c.at, period.by)
    return _per_bucket(session, select(b, func.count()).where(
        turns.c.at >= period.since,
        or_(turns.c.prev.is_(None), longer_than(turns.c.prev, turns.c.at, idle.total_seconds())))
        .group_by(b))


def outcomes(session: Session, period: Period) -> dict[str, dict[str, int]]:
    """Turns per bucket: all of them (``turns``) and per outcome."""
    b = bucket(A.created_at, period.by)
    out: dict[str, dict[str, int]] = {}
    for bk, outcome, n in session.execute(select(b, A.outcome, func.count()).where(_real(period))
                                          .group_by(b, A.outcome)):
        row = out.setdefault(str(bk), {"turns": 0})
        row["turns"] += int(n)
        row[str(outcome)] = int(n)
    return out


def _rated_unhelpful(period: Period) -> Select[Any]:
    """Ids of the period's answers that the same employee rated "Not helpful" (that article, or an article-less
    answer) within the window after them. The few unhelpful ratings drive the join (a DISTINCT subquery
    is not flattened), each finding its employee's answers by index, instead of a lookup per answer."""
    window = dt.timedelta(hours=WINDOW_HOURS)
    rated = (select(R.user_key, func.coalesce(R.article_id, "").label("article"), R.created_at)
             .where(R.helpful.is_(False), R.created_at >= period.since, R.created_at <= period.until + window)
             .distinct().subquery())
    return (select(A.id).join(rated, and_(rated.c.user_key == A.user_key,
                                          rated.c.article == func.coalesce(A.top_article_id, ""),
                                          rated.c.created_at >= A.created_at,
                                          at_most(A.created_at, rated.c.created_at, window.total_seconds())))
            .where(_real(period), A.outcome == "answered"))


def _ticket_after() -> ColumnElement[bool]:
    """A ticket opened by the same employee within the window after the answer."""
    return (select(T.id).where(T.requester_user_key == A.user_key, T.created_at >= A.created_at,
                               at_most(A.created_at, T.created_at, WINDOW_HOURS * 3600))
            .exists())


def deflected(session: Session, period: Period) -> dict[str, int]:
    """Answered turns per bucket with no "Not helpful" rating and no ticket within the window after them."""
    b = bucket(A.created_at, period.by)
    return _per_bucket(session, select(b, func.count()).where(
        _real(period), A.outcome == "answered", A.id.not_in(_rated_unhelpful(period)), ~_ticket_after())
        .group_by(b))


def escalated(session: Session, period: Period) -> dict[str, int]:
    """Tickets opened per bucket."""
    b = bucket(T.created_at, period.by)
    return _per_bucket(session, select(b, func.count()).where(_in(T.created_at, period)).group_by(b))


def account_actions(session: Session, period: Period) -> list[dict[str, Any]]:
    """Account actions (unlocks, reset links, temporary passwords, resets) by action and result."""
    rows = session.execute(select(DirectoryAudit.action, DirectoryAudit.result, func.count())
                           .where(_in(DirectoryAudit.created_at, period),
                                  DirectoryAudit.action.in_(ACCOUNT_ACTIONS))
                           .group_by(DirectoryAudit.action, DirectoryAudit.result)).all()
    order = {a: i for i, a in enumerate(ACCOUNT_ACTIONS)}
    return sorted(({"action": str(a), "result": str(r), "count": int(n)} for a, r, n in rows),
                  key=lambda e: (order[e["action"]], -e["count"], e["result"]))


def account_actions_per_bucket(session: Session, period: Period) -> dict[str, int]:
    """Account actions (any result) per bucket."""
    b = bucket(DirectoryAudit.created_at, period.by)
    return _per_bucket(session, select(b, func.count()).where(
        _in(DirectoryAudit.created_at, period), DirectoryAudit.action.in_(ACCOUNT_ACTIONS)).group_by(b))


def answer_ratings(session: Session, period: Period) -> dict[str, dict[str, int]]:
    """Helpful / not helpful answer ratings per bucket."""
    b = bucket(R.created_at, period.by)
    out: dict[str, dict[str, int]] = {}
    for bk, helpful, n in session.execute(select(b, R.helpful, func.count()).where(_in(R.created_at, period))
                                          .group_by(b, R.helpful)):
        out.setdefault(str(bk), {})["helpful" if helpful else "not_helpful"] = int(n)
    return out


def csat(session: Session, period: Period) -> dict[str, Any]:
    """Ticket ratings (1-5): each rated ticket once, its current rating, counted when last rated."""
    rated = (select(TicketEvent.ticket_id, func.max(TicketEvent.created_at).label("at"))
             .where(TicketEvent.kind == "rated").group_by(TicketEvent.ticket_id).subquery())
    rows = session.execute(select(T.rating, func.count()).join(rated, rated.c.ticket_id == T.id)
                           .where(T.rating.is_not(None), _in(rated.c.at, period)).group_by(T.rating)).all()
    dist = {str(k): 0 for k in range(1, 6)}
    for rating, n in rows:
        if rating is not None and str(rating) in dist:
            dist[str(rating)] += int(n)
    total = sum(dist.values())
    satisfied = sum(n for k, n in dist.items() if int(k) >= SATISFIED)
    return {"ratings": total, "satisfied": satisfied, "csat": _rate(satisfied, total),
            "average": round(sum(int(k) * n for k, n in dist.items()) / total, 2) if total else None,
            "distribution": dist}


def top_intents(session: Session, period: Period, top: int = TOP) -> list[dict[str, Any]]:
    """The most frequent understood intents of the period's turns."""
    n = func.count().label("n")
    rows = session.execute(select(A.intent, n).where(_real(period), A.intent.is_not(None))
                           .group_by(A.intent).order_by(n.desc(), A.intent).limit(top))
    return [{"intent": str(i), "count": int(c)} for i, c in rows]


def top_articles(session: Session, period: Period, top: int = TOP) -> list[dict[str, Any]]:
    """The articles answered with most often, with their title and the period's ratings."""
    n = func.count().label("n")
    rows = session.execute(select(A.top_article_id, KbArticle.title, n)
                           .outerjoin(KbArticle, KbArticle.id == A.top_article_id)
                           .where(_real(period), A.outcome == "answered", A.top_article_id.is_not(None))
                           .group_by(A.top_article_id, KbArticle.title)
                           .order_by(n.desc(), A.top_article_id).limit(top)).all()
    ids = [r[0] for r in rows]
    votes: dict[tuple[str, bool], int] = {}
    if ids:
        for aid, helpful, c in session.execute(select(R.article_id, R.helpful, func.count())
                                               .where(_in(R.created_at, period), R.article_id.in_(ids))
                                               .group_by(R.article_id, R.helpful)):
            votes[(str(aid), bool(helpful))] = int(c)
    return [{"article_id": str(aid), "title": title or str(aid), "answers": int(c),
             "helpful": votes.get((str(aid), True), 0), "not_helpful": votes.get((str(aid), False), 0)}
            for aid, title, c in rows]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def trend(session: Session, period: Period) -> list[dict[str, Any]]:
    """One row per bucket of the period (empty buckets included) with every counted figure."""
    conv, outs, defl = conversations(session, period), outcomes(session, period), deflected(session, period)
    esc, acts, votes = escalated(session, period), account_actions_per_bucket(session, period), \
        answer_ratings(session, period)
    rows = []
    for day in period.buckets():
        k = day.isoformat()
        o, v = outs.get(k, {}), votes.get(k, {})
        rows.append({"bucket": k, "conversations": conv.get(k, 0), "turns": o.get("turns", 0),
                     "answered": o.get("answered", 0), "deflected": defl.get(k, 0), "declined": o.get("declined", 0),
                     "escalated": esc.get(k, 0), "account_actions": acts.get(k, 0),
                     "helpful": v.get("helpful", 0), "not_helpful": v.get("not_helpful", 0)})
    return rows


def compute(session: Session, period: Period, *, gaps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Every figure of the dashboard as one JSON-able dict with stable keys (see the module docstring)."""
    rows = trend(session, period)
    totals = {key: sum(r[key] for r in rows) for key in TREND_KEYS}
    actions = account_actions(session, period)
    sat = csat(session, period)
    summary = {
        **totals,
        "deflection_rate": _rate(totals["deflected"], totals["answered"]),
        "account_actions_ok": sum(a["count"] for a in actions if a["result"] == "ok"),
        "ticket_ratings": sat["ratings"], "csat": sat["csat"],
        "helpful_rate": _rate(totals["helpful"], totals["helpful"] + totals["not_helpful"]),
    }
    return {
        "period": period.to_dict(),
        "definitions": {"idle_minutes": IDLE_MINUTES, "deflection_window_hours": WINDOW_HOURS,
                        "csat_satisfied_from": SATISFIED},
        "summary": summary,
        "trend": rows,
        "account_actions": actions,
        "csat": sat,
        "answer_ratings": {"helpful": totals["helpful"], "not_helpful": totals["not_helpful"],
                           "helpful_rate": summary["helpful_rate"]},
        "top_intents": top_intents(session, period),
        "top_articles": top_articles(session, period),
        "top_gaps": gaps if gaps is not None else [],
    }
