"""`helpdesk tickets …`: work tickets (list, show, comment, note, assign, status, priority, category,
link, merge, resolve, reopen) and the outbox.

Comments, resolutions, reopenings and "waiting on employee" reach the employee exactly as
Jira's do (a chat notification; on resolution with rating buttons); internal notes never do.
Output fits 80 columns: a table when it fits the terminal, else one block per row.
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, Any

import typer

from bot.cli import common
from bot.cli.common import console, print_json, user_errors
from bot.storage.base import minute_stamp

if TYPE_CHECKING:
    from bot.services import Services
    from integrations.ticketing.jira_backend import JiraBackend

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
    rows_out(f"Tickets ({status})", ("key", "status", "urgency", "requester", "assignee", "summary"),
             [(r["key"] or "(queued)", r["status"], r["urgency"], r["requester"] or "", r["assignee"] or "",
               r["summary"]) for r in rows], empty="No tickets.")


def rows_out(title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]], *, empty: str = "") -> None:
    """A table when it fits the console's width (80 columns off a terminal), else one block per row."""
    if not rows:
        if empty:
            console.print(empty, highlight=False)
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    capped = [min(w, 40) for w in widths]
    if sum(capped) + 3 * len(headers) + 1 <= console.width:
        from rich.table import Table

        table = Table(title=title)
        for header, width in zip(headers, capped, strict=True):
            table.add_column(header, max_width=width, overflow="ellipsis", no_wrap=True)
        for r in rows:
            table.add_row(*r)
        console.print(table)
        return
    import textwrap

    console.print(title, highlight=False)
    width = max(len(h) for h in headers)
    for r in rows:
        console.print(highlight=False)
        console.print(f"{r[0]}", highlight=False, markup=False)
        for header, value in zip(headers[1:], r[1:], strict=True):
            if value:
                text = textwrap.fill(value, width=max(40, console.width), initial_indent=f"  {header:<{width}}  ",
                                     subsequent_indent=" " * (width + 4), break_long_words=True)
                console.print(text, highlight=False, markup=False, soft_wrap=True)


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
    if data["links"]:
        console.print("links: " + ", ".join(f"{link['relation'].replace('_', ' ')} {link['key']}"
                                            for link in data["links"]), highlight=False, markup=False)
    for c in data["comments"]:
        kind = " [internal note]" if c["internal"] else ""
        console.print(f"— {c['author']}{kind} ({minute_stamp(c['created_at'])}): {c['body']}", highlight=False,
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
    """Reopen a resolved local-queue ticket; the employee is told."""
    from integrations.ticketing import queue

    services = common.open_services()
    with services.db.session() as session:
        data = queue.reopen(session, key, actor=_default_author(), sink=services.notices)
    _done(as_json, data, f"{data['key']} reopened; the employee will be told.")


def _tracker(services: Services) -> JiraBackend | None:
    """The Jira backend when Jira is configured (to act on Jira tickets too), else None."""
    from integrations.ticketing.jira_backend import JiraBackend

    backend = services.ticketing
    return backend if isinstance(backend, JiraBackend) else None


@app.command("note")
@user_errors
def note(
    key: str = typer.Argument(..., help="Ticket key."),
    text: str = typer.Argument(..., help="The note (IT staff only; the employee never sees it)."),
    author: str = typer.Option(None, help="Who wrote it (default: your login name)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Add an internal note (Jira: an internal, role-restricted comment)."""
    from integrations.ticketing import queue

    services = common.open_services()
    with services.db.session() as session:
        data = queue.note(session, key, text, author=author or _default_author(), tracker=_tracker(services))
    _done(as_json, data, f"Internal note added to {data['key']} (not sent to the employee).")


@app.command("status")
@user_errors
def status(
    key: str = typer.Argument(..., help="Ticket key."),
    new_status: str = typer.Argument(..., metavar="STATUS", help="open, in-progress or waiting (on the employee)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Set the status; "waiting" tells the employee IT needs their reply."""
    from integrations.ticketing import queue

    services = common.open_services()
    with services.db.session() as session:
        data = queue.set_status(session, key, new_status, actor=_default_author(), sink=services.notices,
                                tracker=_tracker(services))
    _done(as_json, data, f"{data['key']} is now {data['status']}.")


@app.command("priority")
@user_errors
def priority(
    key: str = typer.Argument(..., help="Ticket key."),
    urgency: str = typer.Argument(..., help="low, normal, high or critical."),
    as_json: bool = JSON_OPT,
) -> None:
    """Change the urgency (and the tracker's priority)."""
    from integrations.ticketing import queue

    services = common.open_services()
    with services.db.session() as session:
        data = queue.set_priority(session, services.settings.ticketing, key, urgency.lower(),
                                  actor=_default_author(), tracker=_tracker(services))
    _done(as_json, data, f"{data['key']} urgency is now {data['urgency']}"
                         + (f" (priority {data['priority']})." if data["priority"] else "."))


@app.command("category")
@user_errors
def category(
    key: str = typer.Argument(..., help="Ticket key."),
    name: str = typer.Argument(..., help="The category, e.g. vpn_issue."),
    as_json: bool = JSON_OPT,
) -> None:
    """Change the category (its tracker label follows)."""
    from integrations.ticketing import queue

    services = common.open_services()
    with services.db.session() as session:
        data = queue.set_category(session, services.settings.ticketing, key, name, actor=_default_author(),
                                  tracker=_tracker(services))
    _done(as_json, data, f"{data['key']} category is now {data['category']}.")


@app.command("link")
@user_errors
def link(
    key: str = typer.Argument(..., help="Ticket key."),
    other: str = typer.Argument(..., help="The related ticket's key."),
    as_json: bool = JSON_OPT,
) -> None:
    """Link two related tickets (Jira: an issue link)."""
    from integrations.ticketing import queue

    services = common.open_services()
    with services.db.session() as session:
        data = queue.link(session, key, other, actor=_default_author(), tracker=_tracker(services))
    _done(as_json, data, f"{data['key']} and {other.upper()} are linked.")


@app.command("merge")
@user_errors
def merge(
    duplicate: str = typer.Argument(..., help="The duplicate ticket (it is resolved)."),
    into: str = typer.Argument(..., help="The ticket that stays."),
    as_json: bool = JSON_OPT,
) -> None:
    """Merge a duplicate into another ticket: linked, its words kept as a note, its requester told."""
    from integrations.ticketing import queue

    services = common.open_services()
    with services.db.session() as session:
        data = queue.merge(session, duplicate, into, actor=_default_author(), sink=services.notices,
                           tracker=_tracker(services))
    _done(as_json, data, f"{duplicate.upper()} merged into {data['key']}; its requester is told.")


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
    rows_out("Ticket outbox", ("id", "kind", "status", "attempts", "next attempt", "ticket", "summary",
                               "last error"),
             [(str(r["id"]), r["kind"], r["status"], str(r["attempts"]), f"{r['next_attempt_at']:%H:%M:%S}",
               r["ticket"] or "-", r["summary"], r["last_error"] or "") for r in data])
