"""`helpdesk train` and `helpdesk nlu …` (owned by the understanding module)."""

import typer

app = typer.Typer(help="Train and evaluate the intent model.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add top-level commands (e.g. `helpdesk train`) to the root app."""
