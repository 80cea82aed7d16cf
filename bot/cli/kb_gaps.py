"""`helpdesk kb gaps`: the gaps topics still to deal with, numbered for `kb curate add --gap N`.

The list is :func:`knowledge_base.gap_actions.topics`, the one the console's
gaps inbox shows: topics dealt with there or here (curated, article written,
intent examples added, dismissed) are hidden unless ``--all``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from sqlalchemy.orm import Session

from bot.cli import common
from bot.cli.common import console, print_json, user_errors
from bot.errors import DataError
from bot.storage.base import minute_stamp
from knowledge_base import gap_actions as ga
from knowledge_base.gaps import Gap, shorten

if TYPE_CHECKING:
    from bot.services import Services

SHOWN_QUESTIONS = 3  # numbered questions per topic in the list (`--topic N` shows them all)


def gap_topics(services: Services, session: Session, days: int, *,
               include_handled: bool = False) -> list[ga.InboxTopic]:
    """The topics of the last ``days`` days as the console lists them (handled ones only when asked)."""
    from bot.kb_gaps import find_gaps

    return ga.topics(session, find_gaps(services, session, days), include_handled=include_handled)


def open_topic(topics: list[ga.InboxTopic], number: int) -> Gap:
    """Topic ``number`` (1-based) among the topics still to deal with, as `kb gaps` numbers them."""
    shown = [t for t in topics if not t.handled]
    if not 1 <= number <= len(shown):
        raise DataError(f"There is no gaps topic {number}; `helpdesk kb gaps` lists {len(shown)}.")
    return shown[number - 1].gap


def _action(a: ga.KbGapAction) -> dict[str, Any]:
    return {"id": a.id, "kind": a.kind, "what": ga.describe(a), "by": a.created_by,
            "at": a.created_at.isoformat(timespec="seconds")}


def topic_dict(topic: ga.InboxTopic, number: int | None) -> dict[str, Any]:
    """`kb gaps --json`'s entry: the topic's figures (:meth:`Gap.to_dict`) and where it stands."""
    dismissal = topic.dismissed_before
    return {**topic.gap.to_dict(), "number": number, "key": topic.key, "state": topic.state,
            "questions": [shorten(q) for q in ga.unique_questions(topic.gap)],
            "new_questions": topic.new_questions, "earlier": [_action(a) for a in topic.earlier],
            "dismissed_before": None if dismissal is None else {
                "reason": dismissal.details.get("reason"), "by": dismissal.created_by,
                "at": dismissal.created_at.isoformat(timespec="seconds")}}


def _print_topic(topic: ga.InboxTopic, number: int | None, every_question: bool) -> None:
    d = topic.gap.to_dict()
    near = (f"nearest: {d['nearest_title']} ({d['nearest_article']}, {d['nearest_score']})" if d["nearest_article"]
            else "no nearby article")
    head = f"{number}." if number is not None else f"– [{topic.state}]"
    console.print(f"[bold]{head} {escape(d['topic'])}[/] — {d['count']} question(s), {d['declined']} declined, "
                  f"{d['unhelpful']} unhelpful, newest {d['newest']}; {escape(near)}", highlight=False)
    dismissal = topic.dismissed_before
    if dismissal is not None and not topic.handled:
        joined = topic.since_dismissal
        console.print(f"     {escape(ga.dismissal_note(dismissal))}; {len(joined)} new question(s) from "
                      f"{ga.people(joined)} people since", highlight=False)
    for a in topic.earlier:
        if a is not dismissal or topic.handled:
            console.print(f"     {'done' if topic.handled else 'dealt with before'}: {escape(ga.describe(a))} "
                          f"(by {escape(a.created_by)}, {minute_stamp(a.created_at)} UTC)", highlight=False)
    if topic.handled:
        return
    if topic.earlier:
        console.print(f"     {topic.new_questions} question(s) not dealt with yet", highlight=False)
    questions = ga.unique_questions(topic.gap)
    shown = questions if every_question else questions[:SHOWN_QUESTIONS]
    for i, q in enumerate(shown, 1):
        console.print(f"     {i}. “{escape(shorten(q))}”", highlight=False)
    if len(shown) < len(questions):
        console.print(f"     … and {len(questions) - len(shown)} more (`helpdesk kb gaps --topic {number}` lists "
                      "them all)", highlight=False)


def gaps_cmd(
    days: int = typer.Option(90, help="Look at questions from the last N days."),
    top: int = typer.Option(20, help="Show at most this many topics."),
    show_all: bool = typer.Option(False, "--all", help="Also list the topics already dealt with, with what was "
                                  "done (curated, article, examples, dismissed)."),
    number: int | None = typer.Option(None, "--topic", help="Only topic N, with every question numbered (for "
                                      "`kb curate add --gap N --only/--except`)."),
    chart: Path | None = typer.Option(None, "--chart", help="Also write a PNG bar chart of the top gaps here."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Group declined and thumbs-down questions into topics: the to-do list for new articles."""
    from knowledge_base import gaps as gapmod
    from knowledge_base.curated import list_curated
    from knowledge_base.ratings import rating_summary

    services = common.open_services()
    with services.db.session() as session:
        every = gap_topics(services, session, days, include_handled=True)
        ratings = rating_summary(session)
        curated = list_curated(session)  # what trainers already answered, with who and when
    still = [t for t in every if not t.handled]
    numbers = {id(t): i for i, t in enumerate(still, 1)}
    if number is not None:
        wanted = open_topic(every, number)
        listed = [t for t in still if t.gap is wanted]
    else:
        listed = (still + [t for t in every if t.handled] if show_all else still)[:top]
    hidden = len(every) - len(still) if not show_all else 0
    if chart is not None and listed:
        gapmod.chart([t.gap for t in listed], chart, top=min(top, 15))
    if as_json:
        print_json({"gaps": [topic_dict(t, numbers.get(id(t))) for t in listed], "ratings": ratings,
                    "curated": curated[:top], "chart": str(chart) if chart and listed else None, "hidden": hidden})
        return
    if not every:
        console.print(f"No declined or unhelpful questions in the last {days} days.")
    elif not still and number is None:
        console.print(f"Every topic of the last {days} days was dealt with.")
    for i, t in enumerate(listed):
        if t.handled and (i == 0 or not listed[i - 1].handled):
            console.print(f"Already dealt with ({sum(1 for x in every if x.handled)}):", highlight=False)
        _print_topic(t, numbers.get(id(t)), every_question=number is not None)
    if hidden:
        console.print(f"{hidden} topic(s) already dealt with are hidden (`--all` lists them).", highlight=False)
    if ratings and number is None:
        console.print("Ratings per article (not helpful / helpful): " + ", ".join(
            f"{r['article_id']} {r['not_helpful']}/{r['helpful']}" for r in ratings[:10]), highlight=False)
    if curated and number is None:
        console.print(f"Curated answers in use: {len(curated)} (undo one with `helpdesk kb curate undo ID`):",
                      highlight=False)
        for c in curated[:10]:
            what = c["article_id"] or f"approved answer ({c['source']})"
            console.print(f"  #{c['id']} “{escape(shorten(c['question'], 80))}” → {escape(what)}, "
                          f"by {escape(c['created_by'])} at {c['created_at']}", highlight=False)
    if chart is not None and listed:
        console.print(f"Chart written to {chart}.", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `gaps` to the `helpdesk kb` commands."""
    app.command("gaps")(user_errors(gaps_cmd))


__all__ = ["gap_topics", "gaps_cmd", "open_topic", "register", "topic_dict"]
