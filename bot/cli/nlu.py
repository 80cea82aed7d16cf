"""`helpdesk train` and `helpdesk nlu …` (owned by the understanding module)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bot.cli import common
from bot.cli.common import console, print_json, user_errors
from bot.config import Settings

if TYPE_CHECKING:
    from bot.encoding import TextEncoder
    from intents.factory import NluPaths

app = typer.Typer(help="Train, evaluate, benchmark and try the intent model.", no_args_is_help=True)

STEP_LABELS = {"encode": "Encoding sentences", "cross-validate": "Cross-validating",
               "fit": "Fitting the classifier"}


@contextlib.contextmanager
def progress_bars(enabled: bool = True) -> Iterator[Any]:
    """A ``(step, done, total)`` callback drawing one rich progress bar per step (stderr)."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=common.err_console, transient=False) as bars:
        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bars.add_task(STEP_LABELS.get(step, step), total=total)
            bars.update(tasks[step], completed=done, total=total)

        yield update


def _encoder() -> TextEncoder:
    from intents.encoder import get_encoder

    with console.status("Loading the sentence encoder…"):
        return get_encoder()


def _paths(s: Settings) -> NluPaths:
    from intents.factory import NluPaths

    return NluPaths(s.paths.data_dir, s.paths.models_dir, s.paths.var_dir)


def register(root: typer.Typer) -> None:
    """Add top-level commands (`helpdesk train`) to the root app."""

    @root.command("train")
    @user_errors
    def train(
        evaluate: bool = typer.Option(False, "--evaluate", help="Also cross-validate and write the report."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Validate data/intents, train the intent model and save a new version under models/."""
        from intents.factory import load_data, train_and_save, training_summary

        s = common.settings()
        data = load_data(s.nlu, s.paths.data_dir)  # refuse bad data before the slow encoder load
        encoder = _encoder()
        with progress_bars(not as_json) as progress:
            model, version = train_and_save(s.nlu, _paths(s), encoder, data=data, progress=progress)
        result = training_summary(model, version, s.paths.models_dir)
        result["onnx_encoder"] = common.export_encoder(s)  # the torch-free serving encoder, beside the model
        if evaluate:
            result["evaluation"] = _run_evaluation(folds=5, out=None, show=not as_json)
        if as_json:
            print_json(result)
        else:
            console.print(f"[green]Trained[/] {result['intents']} intents on {result['examples']} examples "
                          f"in {result['training_seconds']} s → {result['models_dir']}")

    _ = train


@app.command("validate")
@user_errors
def validate(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Check data/intents (file:line for every problem) without training."""
    from intents.factory import data_summary, load_data

    s = common.settings()
    data = load_data(s.nlu, s.paths.data_dir)
    summary = data_summary(data)
    if as_json:
        print_json(summary)
    else:
        console.print(f"[green]OK[/]: {len(data.examples)} examples, {len(data.counts())} intents in "
                      f"{len(data.files)} file(s).")


def _run_evaluation(*, folds: int, out: Path | None, show: bool) -> dict[str, Any]:
    from intents.factory import classifier_config, embedding_cache_path, load_data
    from training.evaluate import cross_validate, public
    from training.report_files import reports_dir, write_full_report

    s = common.settings()
    data = load_data(s.nlu, s.paths.data_dir)
    encoder = _encoder()
    with progress_bars(show) as progress:
        report = cross_validate(data, encoder, config=classifier_config(s.nlu), folds=folds,
                                cache_path=embedding_cache_path(s.paths.var_dir), progress=progress)
    out_dir = out or reports_dir(s.paths.var_dir)
    # the same report.json and plots the console's Intents page shows
    write_full_report(report, out_dir, policy=(s.nlu.low_confidence, s.nlu.high_confidence))
    if show:
        _print_report(report)
    return public(report)


def _print_report(report: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"Intent cross-validation ({report['folds']}-fold, {report['examples']} examples)")
    for col in ("intent", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "intent" else "right")
    for row in report["per_intent"]:
        style = "red" if row["f1"] < 0.8 else ""
        table.add_row(row["intent"], f"{row['precision']:.2f}", f"{row['recall']:.2f}",
                      f"[{style}]{row['f1']:.2f}[/]" if style else f"{row['f1']:.2f}", str(row["support"]))
    console.print(table)
    console.print(f"accuracy {report['accuracy']:.3f} · macro-F1 [bold]{report['macro_f1']:.3f}[/] · "
                  f"out-of-scope threshold {report['oos_threshold']:.3f} · temperature "
                  f"{report['temperature']:.2f}")
    if report["confused_pairs"]:
        pairs = Table(title="Most confused pairs")
        for col in ("true intent", "predicted", "count", "examples"):
            pairs.add_column(col)
        for p in report["confused_pairs"]:
            pairs.add_row(p["intent"], p["predicted"], str(p["count"]), " | ".join(p["examples"]))
        console.print(pairs)
    for name, path in report.get("plots", {}).items():
        console.print(f"{name.replace('_', ' ')}: {path}")


@app.command("test")
@user_errors
def test(
    folds: int = typer.Option(5, min=2, help="Number of cross-validation folds."),
    out: Path | None = typer.Option(None, help="Folder for the PNG plots (default: var/reports/nlu)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Cross-validate on data/intents: per-intent P/R/F1, confused pairs, confusion matrix + histogram."""
    report = _run_evaluation(folds=folds, out=out, show=not as_json)
    if as_json:
        print_json(report)


@app.command("benchmark")
@user_errors
def benchmark(
    data: Path = typer.Option(..., "--data", help="A CLINC150-shaped JSON file (train/val/test/oos_*)."),
    split: str = typer.Option("val", help="Split to report: val or test (the threshold is picked on val)."),
    oos_train: bool = typer.Option(True, "--oos-train/--no-oos-train",
                                   help="Train oos_train (when present) as an out_of_scope class."),
    min_oos_recall: float | None = typer.Option(None, min=0, max=1, help="Override for exploring: best val "
                                                "accuracy with this oos recall (default: the bot's own rule)."),
    cache: Path | None = typer.Option(None, help="Embedding cache file (default: var/cache/…)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """In-scope accuracy and out-of-scope recall at one operating point, next to published figures."""
    from intents.factory import classifier_config
    from training.clinc import run_benchmark

    if split not in ("val", "test"):
        raise common.fail("--split must be 'val' or 'test'.")
    s = common.settings()
    cache_path = cache or Path(s.paths.var_dir) / "cache" / "benchmark-embeddings.npz"
    encoder = _encoder()
    with progress_bars(not as_json) as progress:
        result = run_benchmark(data, encoder, split=split, use_oos_train=oos_train,
                               min_oos_recall=min_oos_recall, config=classifier_config(s.nlu),
                               cache_path=cache_path, progress=progress)
    if as_json:
        print_json(result)
        return
    from rich.table import Table

    table = Table(title=f"{Path(data).name}, split '{split}' (threshold {result['threshold']})")
    for col in ("system", "in-scope accuracy %", "out-of-scope recall %"):
        table.add_column(col)
    table.add_row("[bold]helpdesk (this run)[/]", f"{result['in_scope_accuracy']:.2f}", f"{result['oos_recall']:.2f}")
    if "val_halves_in_scope_accuracy" in result:
        table.add_row("helpdesk (val, picked on other half)", f"{result['val_halves_in_scope_accuracy']:.2f}",
                      f"{result['val_halves_oos_recall']:.2f}")
    for name, fig in result["published_test"].items():
        table.add_row(f"{name} — published, test", f"{fig['in_scope_accuracy']:.1f}", f"{fig['oos_recall']:.1f}")
    console.print(table)
    console.print(result["operating_point"])


@app.command("parse")
@user_errors
def parse(
    text: str = typer.Argument(..., help="A message, as an employee would type it."),
    as_json: bool = typer.Option(False, "--json", help="Print Rasa's /model/parse JSON."),
) -> None:
    """Show how the configured NLU backend understands one message."""
    from bot.services import Services

    services = Services(common.settings())
    result = services.nlu.parse(text)
    if as_json:
        print_json(result.to_rasa())
        return
    flag = " [yellow](out of scope)[/]" if result.out_of_scope else ""
    console.print(f"intent: [bold]{result.intent.name}[/] ({result.intent.confidence:.2f}){flag}")
    for s in result.ranking[1:4]:
        console.print(f"  also: {s.name} ({s.confidence:.2f})")
    for e in result.entities:
        console.print(f"  entity {e.entity} = {e.value!r} [{e.start}:{e.end}]")


@app.command("status")
@user_errors
def status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Which model is saved, and whether it is stale (the training data or the rules changed since)."""
    from intents.factory import STALE, model_status

    s = common.settings()
    info = model_status(s.nlu, _paths(s))
    if as_json:
        print_json(info)
    else:
        if info["latest"] is None:
            console.print(f"No model in {info['models_dir']} yet: run `helpdesk train`.")
        else:
            console.print(f"model {info['latest']} ({len(info['versions'])} version(s) kept)"
                          + (f" — [yellow]stale: {STALE}; run `helpdesk train`[/]"
                             if info["stale"] else " — up to date"))
