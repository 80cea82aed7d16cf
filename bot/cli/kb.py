"""`helpdesk kb …`: knowledge-base commands (owned by the knowledge base)."""

import typer

app = typer.Typer(help="Manage knowledge-base articles: import, export, lint, gaps, eval.", no_args_is_help=True)
