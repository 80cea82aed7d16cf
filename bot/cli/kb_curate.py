"""`helpdesk kb curate …`: trainers' curated answers (add, list, undo), stored with who and when."""

from __future__ import annotations

import getpass

import typer
from rich.markup import escape

from bot.cli import common
from bot.cli.common import console, print_json, user_errors
from bot.errors import DataError

app = typer.Typer(help="Curated answers: a question or gaps topic → an article, or a short approved answer.",
                  no_args_is_help=True)


def _who(by: str | None) -> str:
    return by or getpass.getuser()


def _numbers(values: list[str] | None, option: str) -> list[int]:
    """Question numbers from ``--only 1,3 --only 5`` (as `kb gaps --topic N` numbers them)."""
    out = []
    for part in ",".join(values or []).split(","):
        if part.strip():
            try:
                out.append(int(part))
            except ValueError:
                raise DataError(f"{option} takes question numbers such as 1,3 (got '{part.strip()}').") from None
    return out


@app.command("add")
@user_errors
def add_cmd(
    question: list[str] | None = typer.Option(None, "--question", "-q", help="A question (repeatable)."),
    gap: int | None = typer.Option(None, "--gap", help="The questions of topic N of `helpdesk kb gaps` (recorded "
                                   "as dealt with there and in the console's gaps inbox)."),
    only: list[str] | None = typer.Option(None, "--only", help="With --gap: only these of its questions, by "
                                          "number as `kb gaps --topic N` lists them (e.g. 1,3)."),
    leave_out: list[str] | None = typer.Option(None, "--except", help="With --gap: all its questions but these "
                                               "(numbers, e.g. 2)."),
    days: int = typer.Option(90, help="With --gap: the gaps of the last N days (as `kb gaps --days`)."),
    article: str | None = typer.Option(None, "--article", help="Answer with this article (its id)."),
    answer: str | None = typer.Option(None, "--answer", help="Or: a short approved answer …"),
    source: str | None = typer.Option(None, "--source", help="… and where it comes from (a link)."),
    by: str | None = typer.Option(None, "--by", help="Who curates (default: the login name)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Curate: paraphrases of these questions get this answer, marked as curated."""
    from knowledge_base import gap_actions as ga
    from knowledge_base.curated import add_curated

    picks = {"only": _numbers(only, "--only"), "leave_out": _numbers(leave_out, "--except")}
    if gap is None and (picks["only"] or picks["leave_out"]):
        raise DataError("--only and --except pick questions of a gaps topic: give the topic with --gap N.")
    services = common.open_services()
    extra, picked = list(question or []), []
    ids: list[int] = []
    action_id = None
    with services.db.session() as session:
        if gap is not None:
            from bot.cli.kb_gaps import gap_topics, open_topic

            topic = open_topic(gap_topics(services, session, days), gap)
            picked = ga.numbered(topic, **picks)
            action = ga.curate(session, topic, created_by=_who(by), article_id=article, answer=answer,
                               source=source, questions=picked)
            ids, action_id = list(action.details["curated_ids"]), action.id
        if extra or gap is None:
            ids += add_curated(session, questions=extra, created_by=_who(by), article_id=article, answer=answer,
                               source=source)
    questions = picked + extra
    if as_json:
        print_json({"ids": ids, "questions": questions, "action_id": action_id})
    else:
        target = f"article {article}" if article else "the approved answer"
        console.print(f"Curated {len(ids)} question(s) → {escape(target)} (ids {', '.join(map(str, ids))}).",
                      highlight=False)
        if action_id is not None:
            console.print(f"Topic {gap} is dealt with (gaps action {action_id}; "
                          f"`helpdesk kb curate undo --action {action_id}` undoes it all).", highlight=False)


@app.command("list")
@user_errors
def list_cmd(
    include_undone: bool = typer.Option(False, "--all", help="Include undone entries."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Every curated entry: question, answer, who and when."""
    from knowledge_base.curated import list_curated

    services = common.open_services()
    with services.db.session() as session:
        rows = list_curated(session, include_undone=include_undone)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        target = r["article_id"] or f"“{r['answer']}” ({r['source']})"
        undone = f" [red]undone by {escape(r['undone_by'])} {r['undone_at']}[/]" if r["undone_at"] else ""
        console.print(f"{r['id']}. “{escape(r['question'])}” → {escape(target)} — {escape(r['created_by'])} "
                      f"{r['created_at']}{undone}", highlight=False)
    if not rows:
        console.print("No curated answers.")


@app.command("undo")
@user_errors
def undo_cmd(
    entry_id: int | None = typer.Argument(None, help="The id shown by `helpdesk kb curate list`."),
    action: int | None = typer.Option(None, "--action", help="Or: a whole `add --gap` (the gaps action id it "
                                      "printed); its topic returns to `kb gaps`."),
    by: str | None = typer.Option(None, "--by", help="Who undoes it (default: the login name)."),
) -> None:
    """Stop a curated entry applying (its record stays, with who undid it and when)."""
    from knowledge_base import gap_actions as ga
    from knowledge_base.curated import undo_curated

    if (entry_id is None) == (action is None):
        raise DataError("Give a curated entry id, or --action ID for a whole `add --gap`.")
    services = common.open_services()
    with services.db.session() as session:
        if action is not None:
            found = session.get(ga.KbGapAction, action)
            if found is not None and found.kind == ga.EXAMPLES:
                raise DataError("Intent examples are undone on the console's Gaps page (it also takes them out of "
                                "the intent files).")
            row = ga.undo_action(session, action, undone_by=_who(by))
            message = f"Gaps action {action} undone ({ga.describe(row)}); its topic is back in `kb gaps`."
        else:
            undo_curated(session, int(entry_id or 0), undone_by=_who(by))
            message = f"Curated entry {entry_id} undone."
    console.print(message, highlight=False)


__all__ = ["DataError", "app"]
