"""`helpdesk console …`: the web console from the command line (one-time sign-in links).

Named web_console, not console: a submodule `bot.cli.console` would replace the package's rich `console`.
"""

from __future__ import annotations

import typer

from bot.cli import common
from bot.cli.common import console, print_json, user_errors

app = typer.Typer(help="The web console (/console on `helpdesk serve`).", no_args_is_help=True)


@app.command("login-link")
@user_errors
def login_link(
    email: str = typer.Option(..., "--email", help="Who signs in (their roles come from [console] settings)."),
    minutes: int | None = typer.Option(None, "--minutes", min=1, max=1440,
                                       help="How long the link works (default: console.login_link_minutes)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Print a one-time sign-in link (single use, short-lived, audited; only its hash is stored)."""
    from bot.console.links import issue_login_link
    from bot.console.roles import roles_for

    services = common.open_services()
    link = issue_login_link(services, email, minutes=minutes, created_by="cli")
    roles = sorted(roles_for(services, link.email))
    expires = link.expires_at.isoformat(timespec="seconds") + "Z"
    if as_json:
        print_json({"url": link.url, "email": link.email, "expires_at": expires, "roles": roles})
        return
    console.print(f"Sign-in link for [bold]{link.email}[/] (works once, until {expires} UTC):")
    typer.echo(link.url)
    if not roles:
        console.print("[yellow]This e-mail has no console role yet: add it to \\[console] trainers, it_staff or "
                      "admins (or a role group), or the console will refuse every page.[/]")
