"""Shared CLI plumbing: settings from --config, user-safe errors, JSON output."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

from bot.config import Settings, load_settings
from bot.errors import HelpdeskError

if TYPE_CHECKING:
    from bot.services import Services

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

_state: dict[str, Any] = {"config": None, "verbose": False}
_loaded: list[Settings] = []


def set_config_path(path: str | None, verbose: bool = False) -> None:
    """Remember ``--config`` and ``--verbose`` for this invocation."""
    _state["config"] = path
    _loaded.clear()
    _state["verbose"] = verbose


def settings() -> Settings:
    """The settings for this invocation (loaded once)."""
    if not _loaded:
        s = load_settings(_state["config"])
        from bot.logs import configure_logging

        level = "DEBUG" if _state["verbose"] else ("WARNING" if not _state.get("server") else s.logging.level)
        configure_logging(level, json_format=s.logging.json_format, secrets=s.secret_values())
        from intents.encoder import set_default_models_dir

        set_default_models_dir(s.paths.models_dir)  # `kb eval`, `nlu test`…: the ONNX export when present
        _loaded.append(s)
    return _loaded[0]


def mark_server() -> None:
    """Long-running commands log at the configured level (CLI commands stay quiet)."""
    _state["server"] = True


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    err_console.print(f"[bold red]Error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def user_errors(func: F) -> F:
    """Turn HelpdeskError into a one-line message and exit 1 — never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HelpdeskError as exc:
            logging.getLogger("helpdesk.cli").debug("error detail: %s", exc.detail)
            raise fail(exc.user_message) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout (for ``--json``)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def export_encoder(s: Settings) -> str | None:
    """Build (or reuse) the ONNX serving encoder beside the models; None, with a warning, when it cannot be built."""
    from intents.encoder import export_encoder as export

    with err_console.status("Exporting the sentence encoder to ONNX…"):
        try:
            return str(export(s.paths.models_dir))
        except ImportError as exc:  # a torch-free install: serving keeps the export it has (or sentence-transformers)
            err_console.print(f"[yellow]Warning:[/] the ONNX encoder was not exported ({exc}); "
                              "install the export extra: pip install '.[export]'.", highlight=False)
            return None


def warm_up(services: Services) -> None:
    """Load what a first turn needs (encoder, intent model, article index from its stored vectors) up front.

    A server calls it before it listens, so ``/readyz`` answering means the first message is answered at
    full speed. A failure here is logged and left to the first turn to report.
    """
    log = logging.getLogger("helpdesk.serve")
    try:
        services.encoder.encode_one("warm-up")
        _ = services.nlu
        services.kb.bootstrap()
        services.kb.sync()
    except HelpdeskError as exc:
        log.warning("warm-up incomplete: %s", exc.user_message)


def open_services(*, migrate: bool = True) -> Any:
    """Build Services on the configured database, applying pending migrations."""
    from bot.services import Services
    from bot.storage import migrate as migrations

    services = Services(settings())
    migrations.prepare(services.db, auto_migrate=migrate and services.settings.database.auto_migrate)
    return services
