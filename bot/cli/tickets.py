"""`helpdesk tickets …`: work the local queue (list, show, comment, assign, resolve) and the outbox.

Comments and resolutions reach the employee exactly as Jira's do (a chat
notification; on resolution with rating buttons).
"""

from __future__ import annotations

import getpass
from typing import Any

import typer

from bot.cli import common
from bot.cli.common import console, print_json, user_errors

app = typer.Typer(help="Work tickets in the local queue; inspect the outbox.", no_args_is_help=True)

JSON_OPT = typer.Option(False, "--json", help="Machine-readable output.")


def _default_author() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "IT staff"


def _done(as_json: bool, data: dict[str, Any], message: str) -> None:
    if as_json:
        print_json(data)
    else:
        console.print(message)


@app.command("list")
@user_errors
def list_tickets(
    status: str = typer.Option("open", help="open, queued, done or all."),
    requester: str | None = typer.Option(None, help="Only this requester's e-mail."),
    limit: int = typer.Option(50, min=1, help="At most this many, newest first."),
    as_json: bool = JSON_OPT,
) -> None:
    """List tickets, newest first."""
    from integrations.ticketing import queue

    services = common.open_services()
    with services.db.session() as session:
        rows = queue.list_tickets(session, status=status, requester=requester, limit=limit)
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"Tickets ({status})")
    for col in ("key", "status", "urgency", "requester", "assignee", "summary"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["key"] or "(queued)", r["status"], r["urgency"], r["requester"] or "",
                      r["assignee"] or "", r["summary"][:60])
    console.print(table)


@app.command("show")
@user_errors
def show(key: str = typer.Argument(..., help="Ticket key, e.g. IT-12."), as_json: bool = JSON_OPT) -> None:
    """Show one ticket with its description, comments and history."""
    from integrations.ticketing import queue

    services = common.open_services()
    with services.db.session() as session:
        data = queue.show(session, key)
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{data['key']}[/] {data['summary']}", highlight=False)
    console.print(f"status {data['status']} · urgency {data['urgency']} · assignee {data['assignee'] or '-'}"
                  f" · requester {data['requester']}", highlight=False)
    console.print(data["description"], highlight=False, markup=False)
    for c in data["comments"]:
        console.print(f"— {c['author']} ({c['created_at']:%Y-%m-%d %H:%M}): {c['body']}", highlight=False,
                      markup=False)


@app.command("comment")
@user_errors
def comment(
    key: str = typer.Argument(..., help="Ticket key."),
    text: str = typer.Argument(..., help="The reply the employee will receive."),
    author: str = typer.Option(None, help="Shown to the employee (default: your login name)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Reply on a local-queue ticket; the employee gets it in chat."""
    from integrations.ticketing import queue

    services = common.open_services()
    with services.db.session() as session:
        data = queue.comment(session, key, text, author=author or _default_author(), sink=services.notices)
    _done(as_json, data, f"Comment added to {data['key']}; the employee will be notified.")


@app.command("assign")
@user_errors
def assign(
    key: str = typer.Argument(..., help="Ticket key."),
    assignee: str = typer.Argument(..., help="Who works on it (name or e-mail); '-' to unassign."),
    as_json: bool = JSON_OPT,
) -> None:
    """Assign a local-queue ticket."""
    from integrations.ticketing import queue

    services = common.open_services()
    with services.db.session() as session:
        data = queue.assign(session, key, None if assignee == "-" else assignee, actor=_default_author(),
                            sink=services.notices)
    _done(as_json, data, f"{data['key']} assigned to {data['assignee'] or 'nobody'}.")


@app.command("resolve")
@user_errors
def resolve(
    key: str = typer.Argument(..., help="Ticket key."),
    resolution: str = typer.Option("Done", help="Resolution shown to the employee."),
    comment_text: str | None = typer.Option(None, "--comment", help="A closing note for the employee."),
    as_json: bool = JSON_OPT,
) -> None:
    """Resolve a local-queue ticket; the employee is told and asked for a rating."""
    from integrations.ticketing import queue

    services = common.open_services()
    with services.db.session() as session:
        data = queue.resolve(session, key, resolution=resolution, closing_comment=comment_text,
                             actor=_default_author(), sink=services.notices)
    _done(as_json, data, f"{data['key']} resolved; the employee will be asked to rate it.")


@app.command("reopen")
@user_errors
def reopen(key: str = typer.Argument(..., help="Ticket key."), as_json: bool = JSON_OPT) -> None:
    """Reopen a resolved local-queue ticket."""
    from integrations.ticketing import queue

    services = common.open_services()
    with services.db.session() as session:
        data = queue.reopen(session, key, actor=_default_author(), sink=services.notices)
    _done(as_json, data, f"{data['key']} reopened.")


PULL_CHANNELS = {"terminal": "at the user's next chat message", "http": "with the user's next API reply"}


def _print_notifications(counts: dict[str, dict[str, int]]) -> None:
    """Notifications not yet delivered, per channel (push channels retry; pull channels wait)."""
    for channel, by_status in sorted(counts.items()):
        parts = ", ".join(f"{n} {status}" for status, n in sorted(by_status.items()))
        when = PULL_CHANNELS.get(channel, "the worker retries them")
        console.print(f"Notifications for {channel}: {parts} ({when}).")


@app.command("outbox")
@user_errors
def outbox(
    retry: list[int] = typer.Option([], "--retry", help="Requeue this outbox row now (repeatable)."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Requeue every failed row."),
    deliver: bool = typer.Option(False, "--deliver", help="Run one delivery round now."),
    show_all: bool = typer.Option(False, "--all", help="Include delivered rows."),
    as_json: bool = JSON_OPT,
) -> None:
    """Escalations waiting for Jira: inspect, requeue (with the current routing), deliver now."""
    from bot.notify import pending_counts
    from integrations.ticketing import queue
    from integrations.ticketing.worker import run_once

    services = common.open_services()
    with services.db.session() as session:
        done = queue.requeue(session, services.settings.ticketing, retry, all_failed=retry_failed)
    requeued, already_queued, already_done = done.requeued, done.already_queued, done.already_done
    result = (run_once(services.db, services.ticketing, services.settings.ticketing, services.notices)
              if deliver else None)
    with services.db.session() as session:
        data = queue.outbox_rows(session, include_done=show_all)
        notifications = pending_counts(session)
    if as_json:
        print_json({"rows": data, "delivered_now": result.delivered if result else None,
                    "requeued": requeued, "already_queued": already_queued, "already_done": already_done,
                    "notifications": notifications})
        return
    _print_notifications(notifications)
    if already_queued:
        console.print(f"Already queued (the worker retries them on schedule): "
                      f"{', '.join(map(str, already_queued))}.")
    if already_done:
        console.print(f"Already delivered: {', '.join(map(str, already_done))}.")
    if requeued:
        console.print(f"Requeued: {', '.join(map(str, requeued))}.")
    if result is not None:
        console.print(f"Delivered {result.delivered}, retrying {result.retried}, failed {result.failed}.")
    if not data:
        console.print("The ticket outbox is empty: every escalation has reached the tracker.")
        return
    from rich.table import Table

    table = Table(title="Ticket outbox")
    for col in ("id", "kind", "status", "attempts", "next attempt", "ticket", "summary", "last error"):
        table.add_column(col)
    for r in data:
        table.add_row(str(r["id"]), r["kind"], r["status"], str(r["attempts"]), f"{r['next_attempt_at']:%H:%M:%S}",
                      r["ticket"] or "-", r["summary"][:40], (r["last_error"] or "")[:50])
    console.print(table)
