"""`helpdesk kb …`: knowledge-base commands (owned by the knowledge base)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from bot.cli import common
from bot.cli.common import console, print_json, user_errors
from bot.errors import DataError

if TYPE_CHECKING:
    from bot.services import Services
    from knowledge_base.service import KnowledgeBase

app = typer.Typer(help="Manage knowledge-base articles: import, export, lint, gaps, eval, curate.",
                  no_args_is_help=True)


def _add_curate() -> None:
    from bot.cli.kb_curate import app as curate_app

    app.add_typer(curate_app, name="curate")


def _progress():
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), console=common.err_console, transient=True)


def _tracked(progress: Any):
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return update


def _kb() -> tuple[Services, KnowledgeBase]:
    services = common.open_services()
    return services, services.kb


def _live_ids() -> set[str]:
    """Ids of the live imported articles (empty when the database cannot be opened)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.errors import HelpdeskError

    try:
        _, kb = _kb()
        return {a["id"] for a in kb.list_articles()}
    except (HelpdeskError, SQLAlchemyError):
        return set()


@app.command("import")
@user_errors
def import_cmd(
    folder: Path = typer.Argument(..., help="Folder of Markdown articles (sub-folders included)."),
    keep_missing: bool = typer.Option(False, "--keep-missing", help="Do not retire articles missing from the folder."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable summary."),
    int8: bool = typer.Option(False, "--int8", help="Encode with the int8-quantised encoder: faster indexing of "
                              "large bases, vectors slightly less exact (see README, Performance)."),
) -> None:
    """Import a folder: new and changed files become new versions, removed ones are retired."""
    services, kb = _kb()
    kb.mark_bootstrapped()  # an explicit import replaces the first-use bootstrap
    from intents.encoder import get_bulk_encoder

    # the indexing encoder, loaded only if something needs encoding (int8 when asked: only the import's
    # encoding; questions stay fp32)
    models_dir = services.settings.paths.models_dir
    kb.importer.encoder_provider = lambda: get_bulk_encoder(models_dir, quantized=int8)
    with _progress() as progress:
        summary = kb.import_dir(folder, retire_missing=not keep_missing, progress=_tracked(progress))
    data = summary.to_dict()
    if as_json:
        print_json(data)
    else:
        c = data["counts"]
        kept = sum(1 for e in summary.errors if e.kept_live)
        kept_note = f" ({kept} kept at their last good version)" if kept else ""
        console.print(f"Imported {folder}: {c['created']} new, {c['updated']} updated, {c['restored']} restored, "
                      f"{c['unchanged']} unchanged, {c['retired']} retired, {c['errors']} with errors{kept_note}.",
                      highlight=False)
        for err in summary.errors:
            console.print(f"  [red]skipped[/] {escape(err.message)}", highlight=False)
    if summary.errors:
        raise typer.Exit(2)


@app.command("export")
@user_errors
def export_cmd(
    folder: Path = typer.Argument(..., help="Folder to write the articles to (created if needed)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Write every live article's current file, exactly as imported (a lossless round trip)."""
    _, kb = _kb()
    kb.bootstrap()
    written = kb.export(folder)
    if as_json:
        print_json({"folder": str(folder), "written": written})
    else:
        console.print(f"Exported {len(written)} articles to {folder}.", highlight=False)


@app.command("list")
@user_errors
def list_cmd(
    include_retired: bool = typer.Option(False, "--all", help="Include retired articles."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """List articles with their status, audience, owner, review date and version."""
    _, kb = _kb()
    kb.bootstrap()
    rows = kb.list_articles(include_retired=include_retired)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} articles")
    table.add_column("id", no_wrap=True)
    for col in ("title", "status", "audience", "owner", "review by", "v"):
        table.add_column(col)
    today = dt.date.today().isoformat()
    for r in rows:
        review = r["review_by"] or ""
        if review and review < today:
            review = f"[red]{review}[/]"
        status = "retired" if r["retired"] else r["status"]
        table.add_row(escape(r["id"]), escape(r["title"]), status, ", ".join(r["audience"]) or "everyone",
                      escape(r["owner"] or "-"), review, str(r["version"]))
    console.print(table)


@app.command("show")
@user_errors
def show_cmd(
    article_id: str = typer.Argument(..., help="Article id (its path without .md), e.g. network/vpn."),
    version: int | None = typer.Option(None, help="Show this version instead of the current one."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show an article (its file text) and its metadata."""
    _, kb = _kb()
    kb.bootstrap()
    data = kb.show_article(article_id, version)
    if as_json:
        print_json(data)
        return
    flag = " [red](retired)[/]" if data["retired"] else ""
    console.print(f"[bold]{escape(data['title'])}[/]{flag} — {escape(data['id'])} v{data['shown_version']} "
                  f"({data['status']}, owner {escape(data['owner'] or '-')}, review by {data['review_by'] or '-'})",
                  highlight=False)
    console.print(data["text"], highlight=False, markup=False)


@app.command("history")
@user_errors
def history_cmd(
    article_id: str = typer.Argument(..., help="Article id."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Every version of an article: when, what changed, from where."""
    _, kb = _kb()
    kb.bootstrap()
    rows = kb.article_history(article_id)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"History of {article_id}")
    for col in ("v", "change", "at", "title", "source", "hash"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["version"]), r["change"], r["at"], escape(str(r["title"] or "")), r["source"] or "",
                      r["hash"])
    console.print(table)


@app.command("lint")
@user_errors
def lint_cmd(
    folder: Path | None = typer.Argument(None, help="Lint this folder instead of the imported articles."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Find broken internal links, missing owners, overdue reviews, duplicate titles and empty sections."""
    from knowledge_base.lint import lint_articles
    from knowledge_base.store import ImportError_, mark_kept, read_folder

    errors: list[ImportError_] = []
    if folder is not None:
        if not folder.is_dir():
            raise DataError(f"{folder} is not a folder.")
        articles = read_folder(folder, errors)
        base = common.settings().kb.article_base_url
        if errors:
            mark_kept(errors, _live_ids())
    else:
        services, kb = _kb()
        kb.bootstrap()
        articles = kb.current_articles()
        base = services.settings.kb.article_base_url
    findings = lint_articles(articles, base_url=base)
    if as_json:
        print_json({"findings": [f.to_dict() for f in findings], "errors": [e.__dict__ for e in errors]})
    else:
        for e in errors:
            console.print(f"[red]error[/] {escape(e.message)}", highlight=False)
        for f in findings:
            console.print(escape(str(f)), highlight=False)
        console.print(f"{len(articles)} articles, {len(findings)} findings, {len(errors)} unreadable.",
                      highlight=False)
    if findings or errors:
        raise typer.Exit(1)


def _add_gaps() -> None:
    from bot.cli.kb_gaps import register

    register(app)


_add_gaps()


@app.command("eval")
@user_errors
def eval_cmd(
    pages: Path | None = typer.Option(None, "--pages", help="Folder of Markdown pages to import into a scratch "
                                      "database."),
    questions: Path | None = typer.Option(None, "--questions",
                                          help='JSONL: {"q": ..., "relevant": [paths], "kind": ...}'),
    corpus: list[Path] | None = typer.Option(None, "--corpus", help="A corpus folder (pages/ + questions*.jsonl); "
                                             "repeat it for a leave-one-corpus-out report."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable report."),
) -> None:
    """Score retrieval (hit@1, hit@5, MRR) and declining on a corpus, or leave-one-corpus-out over several."""
    from knowledge_base.evaluate import run_corpora, run_eval

    s = common.settings()
    from intents.encoder import get_encoder

    if corpus:
        with _progress() as progress:
            multi = run_corpora(list(corpus), get_encoder, threshold=s.kb.answer_threshold,
                                cache_dir=Path(s.paths.var_dir), progress=_tracked(progress))
        if as_json:
            print_json(multi)
            return
        for name, rep in multi["corpora"].items():
            _print_metrics(name, rep["metrics"])
        loco = multi["leave_one_corpus_out"]
        for name, m in loco["held_out"].items():
            console.print(f"held out {escape(name)}: threshold {m['threshold']:.2f} picked on the others → "
                          f"answered {m['answered_share']:.2f}, declined {_share(m['declined_share'])}",
                          highlight=False)
        console.print(f"threshold picked on all corpora together: {loco['pooled_threshold']:.2f}", highlight=False)
        for name, m in loco["at_pooled"].items():
            console.print(f"  at it, {escape(name)}: answered {m['answered_share']:.2f}, declined "
                          f"{_share(m['declined_share'])}", highlight=False)
        return
    if pages is None or questions is None:
        raise DataError("Give --pages and --questions, or one or more --corpus folders.")
    if not pages.is_dir():
        raise DataError(f"{pages} is not a folder of pages.")
    with _progress() as progress:
        report = run_eval(pages, questions, get_encoder, threshold=s.kb.answer_threshold,
                          cache_dir=Path(s.paths.var_dir), progress=_tracked(progress))
    data = report.to_dict()
    if as_json:
        print_json(data)
        return
    m = data["metrics"]
    console.print(f"{data['articles']} articles indexed, {len(data['import_errors'])} import errors; "
                  f"{m['answerable']} answerable and {m['unanswerable']} unanswerable questions.", highlight=False)
    _print_metrics(str(pages), m)
    console.print("Bar: hit@1 ≥ 0.90, hit@5 ≥ 0.98, declined ≥ 0.85 with answered ≥ 0.95.")
    for miss in data["misses"]:
        console.print(f"  [yellow]miss[/] {escape(miss['question'])} — {escape(miss['problem'])}; "
                      f"top: {escape(', '.join(miss['top']))} (confidence {miss['confidence']})", highlight=False)


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _print_metrics(name: str, m: dict[str, Any]) -> None:
    console.print(f"{escape(name)}: hit@1 {m['hit@1']:.2f}   hit@5 {m['hit@5']:.2f}   MRR {m['mrr']:.3f}   "
                  f"answered (answerable) {m['answered_share']:.2f}   declined (unanswerable) "
                  f"{_share(m['declined_share'])}   threshold {m['threshold']:.2f}", highlight=False)


_add_curate()
