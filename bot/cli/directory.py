"""`helpdesk audit` and `helpdesk dev directory` (owned by the directory integration)."""

from __future__ import annotations

import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import typer

from bot.cli import common
from bot.cli.common import console, print_json, user_errors

dev_app = typer.Typer(help="Development helpers (throwaway directory server).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add top-level commands (e.g. `helpdesk audit`) to the root app."""
    root.command("audit")(audit_command)


@user_errors
def audit_command(
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="How many entries (newest first)."),
    actor: str | None = typer.Option(None, help="Only this requester (e.g. slack:U123)."),
    action: str | None = typer.Option(None, help="Only this action (unlock, reset, reset_link, ...)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show the account self-service audit log: who, which account, what, result, when."""
    from integrations.directory import audit

    services = common.open_services()
    with services.db.session() as session:
        rows = audit.recent(session, limit=limit, actor=actor, action=action)
        data: list[dict[str, Any]] = [
            {"id": r.id, "when": r.created_at.isoformat(timespec="seconds") + "Z", "actor": r.actor,
             "email": r.email, "account": r.account, "action": r.action, "result": r.result,
             "detail": r.detail} for r in rows]
    if as_json:
        print_json(data)
        return
    from rich.table import Table

    table = Table(title=f"Directory audit log (newest {len(data)})")
    for col in ("id", "when (UTC)", "actor", "account", "action", "result", "detail"):
        table.add_column(col, overflow="fold")
    for r in data:
        style = "green" if r["result"] == "ok" else ("red" if r["result"] in ("error", "unreachable") else "yellow")
        table.add_row(str(r["id"]), r["when"], r["actor"], r["account"] or r["email"] or "-", r["action"],
                      f"[{style}]{r['result']}[/]", r["detail"] or "")
    console.print(table)


@dev_app.command("directory")
@user_errors
def dev_directory(
    workdir: Path | None = typer.Option(None, help="Where to keep the server's files (default: a temp dir)."),
    once: bool = typer.Option(False, "--once", help="Start, print the settings, and stop (for checks)."),
    as_json: bool = typer.Option(False, "--json", help="Print the settings as JSON."),
) -> None:
    """Start a throwaway OpenLDAP on 127.0.0.1 seeded with the demo users, and print the settings to use."""
    import shutil

    from bot.errors import ConfigError
    from integrations.directory.testing import DEMO_LDIF, PEOPLE_BASE, Slapd, demo_password

    if shutil.which("slapd") is None:
        raise ConfigError("slapd is not installed: apt-get install slapd ldap-utils")
    base = workdir or Path(tempfile.mkdtemp(prefix="helpdesk-slapd-"))
    server = Slapd(base)
    with console.status("Starting OpenLDAP (TLS, password policy, demo users)…"):
        server.start()
    settings = server.settings()
    if as_json:
        print_json({"directory": settings, "demo_password_example": demo_password("alice")})
    else:
        console.print(f"[green]OpenLDAP is running[/] on {server.url} (plain {server.plain_url}); files in {base}")
        console.print("Put this in helpdesk.toml:\n")
        console.print("[directory]", highlight=False, markup=False)
        for key, value in settings.items():
            rendered = str(value).lower() if isinstance(value, bool) else (
                "[" + ", ".join(f'"{v}"' for v in value) + "]" if isinstance(value, list) else f'"{value}"')
            console.print(f"{key} = {rendered}", highlight=False, markup=False, soft_wrap=True)
        console.print("\nThen try: helpdesk chat --email alice@example.com   (say \"I'm locked out\")")
        console.print(f"Lock alice first with three wrong passwords, e.g.:\n  for i in 1 2 3; do ldapwhoami -x -H "
                      f"{server.plain_url} -D uid=alice,{PEOPLE_BASE} -w wrong; done", markup=False)
        console.print(f"Demo people's passwords: see {DEMO_LDIF} (alice: {demo_password('alice')})",
                      markup=False)
    if once:
        server.stop()
        return
    common.err_console.print("Press Ctrl+C to stop.")
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        while not stop["now"] and server.proc is not None and server.proc.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        console.print("OpenLDAP stopped.")
