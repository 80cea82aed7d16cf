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


@app.command("add")
@user_errors
def add_cmd(
    question: list[str] | None = typer.Option(None, "--question", "-q", help="A question (repeatable)."),
    gap: int | None = typer.Option(None, "--gap", help="Every question of topic N of `helpdesk kb gaps`."),
    days: int = typer.Option(90, help="With --gap: the gaps of the last N days (as `kb gaps --days`)."),
    article: str | None = typer.Option(None, "--article", help="Answer with this article (its id)."),
    answer: str | None = typer.Option(None, "--answer", help="Or: a short approved answer …"),
    source: str | None = typer.Option(None, "--source", help="… and where it comes from (a link)."),
    by: str | None = typer.Option(None, "--by", help="Who curates (default: the login name)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Curate: paraphrases of these questions get this answer, marked as curated."""
    from knowledge_base.curated import add_curated

    services = common.open_services()
    questions = list(question or [])
    if gap is not None:
        from bot.cli.kb import gap_questions

        questions += gap_questions(services, gap, days)
    with services.db.session() as session:
        ids = add_curated(session, questions=questions, created_by=_who(by), article_id=article, answer=answer,
                          source=source)
    if as_json:
        print_json({"ids": ids, "questions": questions})
    else:
        target = f"article {article}" if article else "the approved answer"
        console.print(f"Curated {len(ids)} question(s) → {escape(target)} (ids {', '.join(map(str, ids))}).",
                      highlight=False)


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
    entry_id: int = typer.Argument(..., help="The id shown by `helpdesk kb curate list`."),
    by: str | None = typer.Option(None, "--by", help="Who undoes it (default: the login name)."),
) -> None:
    """Stop a curated entry applying (its record stays, with who undid it and when)."""
    from knowledge_base.curated import undo_curated

    services = common.open_services()
    with services.db.session() as session:
        undo_curated(session, entry_id, undone_by=_who(by))
    console.print(f"Curated entry {entry_id} undone.")


__all__ = ["DataError", "app"]
