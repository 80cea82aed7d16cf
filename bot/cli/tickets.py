"""`helpdesk tickets …` (owned by the ticketing integration)."""

import typer

app = typer.Typer(help="Work tickets in the local queue; inspect the outbox.", no_args_is_help=True)
