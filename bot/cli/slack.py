"""`helpdesk slack …`: run Socket Mode, print the app manifest, check the Slack credentials."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import typer

from bot.cli import common
from bot.cli.common import console, print_json, user_errors
from bot.errors import ConfigError, SlackError

MANIFEST = Path(__file__).resolve().parents[1] / "channels" / "slack" / "manifest.yml"
app = typer.Typer(help="The Slack app: Socket Mode, manifest, credential check.", no_args_is_help=True)


def manifest(request_url: str | None = None, socket_mode: bool = False, command: str = "/helpdesk") -> dict[str, Any]:
    """The app manifest, with the Request URL filled in (HTTP mode) or Socket Mode switched on."""
    import yaml

    data = yaml.safe_load(MANIFEST.read_text())
    data["features"]["slash_commands"][0]["command"] = command
    settings = data["settings"]
    if socket_mode:
        settings["socket_mode_enabled"] = True
        settings["event_subscriptions"].pop("request_url", None)
        settings["interactivity"].pop("request_url", None)
        data["features"]["slash_commands"][0].pop("url", None)
    elif request_url:
        url = request_url.rstrip("/")
        url = url if url.endswith("/slack/events") else url + "/slack/events"
        settings["event_subscriptions"]["request_url"] = url
        settings["interactivity"]["request_url"] = url
        data["features"]["slash_commands"][0]["url"] = url
    return data


@app.command("manifest")
@user_errors
def manifest_cmd(
    request_url: str | None = typer.Option(None, help="Public base URL of `helpdesk serve` (HTTP mode)."),
    socket_mode: bool = typer.Option(False, "--socket-mode", help="Socket Mode: no public URL needed."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of YAML."),
) -> None:
    """Print the Slack app manifest to paste into api.slack.com/apps → Create New App → From a manifest."""
    import yaml

    data = manifest(request_url, socket_mode, common.settings().slack.slash_command)
    if as_json:
        print_json(data)
    else:
        typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@app.command("check")
@user_errors
def check(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Call auth.test with the bot token (and apps.connections.open with the app token, if set)."""
    from slack_sdk.errors import SlackApiError

    from bot.channels.slack.client import build_client

    s = common.settings().slack
    if not s.configured:
        raise ConfigError("Slack is not configured: set slack.bot_token (HELPDESK_SLACK__BOT_TOKEN).")
    client = build_client(s)
    try:
        who = client.auth_test()
        socket_ok = None
        if s.app_token is not None:
            client.apps_connections_open(app_token=s.app_token.get_secret_value())
            socket_ok = True
    except SlackApiError as exc:
        raise SlackError(f"Slack refused the credentials: {exc.response.get('error')}.") from None
    except OSError as exc:
        raise SlackError(f"Slack is not reachable at {s.api_base_url}: {type(exc).__name__}.") from None
    report = {"team": who.get("team"), "bot_user": who.get("user"),
              "bot_user_id": who.get("user_id"), "http_mode": s.http_enabled,
              "socket_mode": socket_ok if socket_ok is not None else False}
    if as_json:
        print_json(report)
    else:
        console.print(f"Slack OK: bot [bold]{report['bot_user']}[/] ({report['bot_user_id']}) in "
                      f"{report['team']}; HTTP mode {'on' if s.http_enabled else 'off'}; "
                      f"Socket Mode {'on' if socket_ok else 'off'}.")


@app.command("socket")
@user_errors
def socket(workers: bool = typer.Option(True, help="Also run the background jobs (notifications, outbox).")) -> None:
    """Run the bot over Socket Mode (no public URL needed) until Ctrl-C."""
    from bot.channels.slack.adapter import build_slack_adapter
    from bot.channels.slack.socket_mode import SocketModeRunner

    common.mark_server()
    services = common.open_services()
    s = services.settings.slack
    if not s.socket_mode_enabled:
        raise ConfigError("Socket Mode needs slack.app_token (HELPDESK_SLACK__APP_TOKEN=xapp-…) and either "
                          "slack.bot_token (HELPDESK_SLACK__BOT_TOKEN=xoxb-…) or slack.oauth.")
    adapter = build_slack_adapter(services)
    runner = SocketModeRunner(adapter)
    worker = None
    if workers:
        from bot.worker import Worker

        worker = Worker(services)
        worker.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    runner.connect()
    adapter.start()  # answer what a replica that died left acknowledged but unanswered
    console.print("Connected to Slack over Socket Mode. Ctrl-C to stop.")
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        runner.close()
        if worker:
            worker.stop()
        adapter.shutdown()
