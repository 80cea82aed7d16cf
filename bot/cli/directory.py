"""`helpdesk audit` and `helpdesk dev directory` (owned by the directory integration)."""

import typer

dev_app = typer.Typer(help="Development helpers (throwaway directory server).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add top-level commands (e.g. `helpdesk audit`) to the root app."""
