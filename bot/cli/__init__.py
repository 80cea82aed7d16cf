"""The `helpdesk` command line."""

from __future__ import annotations

import logging
import uuid

import typer

from bot.cli import common
from bot.cli.common import console, print_json, user_errors
from bot.errors import ConfigError

log = logging.getLogger("helpdesk.serve")

app = typer.Typer(
    name="helpdesk",
    help="IT helpdesk bot: chat, serve Slack, manage the knowledge base, tickets and models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")


@app.callback()
def _root(
    config: str | None = typer.Option(
        None, "--config", "-c", help="Path to helpdesk.toml (default: $HELPDESK_CONFIG or ./helpdesk.toml)."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details to stderr."),
) -> None:
    common.set_config_path(config, verbose)


@app.command()
@user_errors
def chat(
    user: str = typer.Option("you", help="Who you are in this chat (a local user name)."),
    email: str | None = typer.Option(None, help="Your e-mail, as the directory knows it."),
) -> None:
    """Talk to the bot in the terminal (embedded defaults: no Slack, Jira or LDAP needed)."""
    from bot.channels.terminal import run_chat

    services = common.open_services()
    run_chat(services, user=user, email=email)


@app.command()
@user_errors
def ask(
    question: str = typer.Argument(..., help="The question, as an employee would type it."),
    as_json: bool = typer.Option(False, "--json", help="Print the reply as JSON (for scripts)."),
    user: str = typer.Option("cli", help="The user asking (conversation state is per user)."),
    email: str | None = typer.Option(None, help="The asker's verified e-mail."),
    group: list[str] = typer.Option([], "--group", help="Audiences the asker belongs to (repeatable)."),
) -> None:
    """Ask one question and print the reply."""
    from bot.channels.terminal import render_reply
    from bot.engine import Engine
    from bot.messages import Message

    services = common.open_services()
    # A one-shot question starts fresh: a distinct conversation per call.
    user_key = f"cli:{user}:{uuid.uuid4().hex[:8]}"
    reply = Engine(services).handle(
        Message(text=question, user_key=user_key, channel="cli", email=email,
                groups=frozenset(group))
    )
    if as_json:
        print_json(reply.to_dict(plain=True))
    else:
        render_reply(console, reply)


@app.command()
@user_errors
def serve(
    host: str | None = typer.Option(None, help="Interface to listen on (default: server.host)."),
    port: int | None = typer.Option(None, help="Port (default: server.port)."),
) -> None:
    """Run the HTTP server: health, Slack, webhooks, reset page, Rasa-compatible parse API."""
    import uvicorn

    from bot.security import insecure_settings
    from bot.server import create_app

    common.mark_server()
    s = common.settings()
    unsafe = insecure_settings(s, host=host)
    if unsafe and not s.server.allow_insecure:
        raise ConfigError("Refusing to start: " + "; ".join(unsafe)
                          + ". (Set server.allow_insecure = true for development only.)")
    for problem in unsafe:
        log.warning("insecure setting allowed by server.allow_insecure: %s", problem)
    services = common.open_services()
    common.warm_up(services)  # before listening: once /readyz answers, the first message is fast
    uvicorn.run(create_app(services), host=host or s.server.host, port=port or s.server.port,
                log_config=None)


@app.command("rasa-actions")
@user_errors
def rasa_actions(port: int = typer.Option(5055, help="Port of the action server (Rasa's endpoints.yml).")) -> None:
    """Run a rasa-sdk action server exposing the bot's flows to a Rasa assistant."""
    from bot.channels.rasa_actions import serve as serve_actions

    common.mark_server()
    common.open_services()  # validate settings and migrate before Sanic starts
    serve_actions(port)


@config_app.command("check")
@user_errors
def config_check(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List every integration, whether it is live or on its embedded default, and any problem."""
    from bot.health import check_configuration

    try:
        settings = common.settings()
    except ConfigError as exc:
        if not as_json:
            raise
        # Scripts get JSON either way: the same user-safe message, located when the error knows where.
        print_json({"ok": False, "error": exc.user_message, "field": exc.field, "path": exc.path, "line": exc.line})
        raise typer.Exit(1) from None
    report = check_configuration(settings)
    failed = any(i["status"] == "error" for i in report["integrations"])
    if as_json:
        print_json({"ok": not failed, **report})
    else:
        from rich.table import Table

        table = Table(title=f"Configuration ({report['config_file'] or 'defaults + environment'})")
        for col in ("integration", "mode", "status", "details"):
            table.add_column(col)
        for item in report["integrations"]:
            style = {"ok": "green", "error": "red", "warning": "yellow"}[item["status"]]
            table.add_row(item["name"], item["mode"], f"[{style}]{item['status']}[/]", item["details"])
        console.print(table)
    if failed:
        raise typer.Exit(1)


@db_app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Apply pending Alembic migrations."""
    from bot.storage import migrate
    from bot.storage.session import Database, describe_url

    s = common.settings()
    db = Database(s.database.url.get_secret_value())
    heads = migrate.upgrade(db)
    typer.echo(f"Database {describe_url(db.url)} is at revision(s): {', '.join(heads)}")


@db_app.command("current")
@user_errors
def db_current(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Show the database's revision(s) and whether migrations are pending."""
    from bot.storage import migrate
    from bot.storage.session import Database

    s = common.settings()
    db = Database(s.database.url.get_secret_value())
    db.check()
    revisions, heads = sorted(migrate.database_revisions(db)), sorted(migrate.code_heads(db))
    pending = migrate.pending(db)
    if as_json:
        print_json({"revisions": revisions, "code_heads": heads, "pending": pending})
    else:
        typer.echo(f"database: {', '.join(revisions) or '(empty)'}; "
                   f"code: {', '.join(heads)}; pending: {pending}")


def _register_capabilities() -> None:
    from bot.cli import directory, kb, nlu, tickets

    app.add_typer(kb.app, name="kb")
    app.add_typer(nlu.app, name="nlu")
    app.add_typer(tickets.app, name="tickets")
    app.add_typer(directory.dev_app, name="dev")
    from bot.cli import slack as slack_cli

    app.add_typer(slack_cli.app, name="slack")
    from bot.cli.web_console import app as console_app

    app.add_typer(console_app, name="console")
    nlu.register(app)
    directory.register(app)
    from bot.cli import report as report_cli

    report_cli.register(app)


_register_capabilities()


def main() -> None:
    """Entry point of the ``helpdesk`` command."""
    app()
