"""`helpdesk tickets …`: work the local queue (list, show, comment, assign, resolve) and the outbox.

Comments and resolutions reach the employee exactly as Jira's do (a chat
notification; on resolution with rating buttons).
"""

from __future__ import annotations

import getpass
from typing import Any, Optional

import typer
from sqlalchemy import or_, select

from bot.cli import common
from bot.cli.common import console, print_json, user_errors
from bot.errors import InvalidInputError, NotPermittedError

app = typer.Typer(help="Work tickets in the local queue; inspect the outbox.", no_args_is_help=True)

JSON_OPT = typer.Option(False, "--json", help="Machine-readable output.")


def _ticket_dict(t: Any) -> dict[str, Any]:
    return {"key": t.key, "status": t.status, "status_category": t.status_category,
            "summary": t.summary, "requester": t.requester_email or t.requester_user_key,
            "requester_user_key": t.requester_user_key, "assignee": t.assignee,
            "urgency": t.urgency, "priority": t.priority, "category": t.category,
            "backend": t.backend, "url": t.url, "resolution": t.resolution, "rating": t.rating,
            "created_at": t.created_at, "updated_at": t.updated_at}


def _load(session: Any, key: str, *, local_only: bool = False) -> Any:
    from integrations.ticketing.service import find_ticket

    ticket = find_ticket(session, key)
    if ticket is None:
        raise InvalidInputError(f"Ticket {key.upper()} does not exist (see `helpdesk tickets list`).")
    if local_only and ticket.backend != "local":
        raise NotPermittedError(f"{ticket.key} is a Jira ticket: work it in Jira ({ticket.url}).")
    return ticket


def _default_author() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "IT staff"


@app.command("list")
@user_errors
def list_tickets(
    status: str = typer.Option("open", help="open, queued, done or all."),
    requester: Optional[str] = typer.Option(None, help="Only this requester's e-mail."),
    limit: int = typer.Option(50, min=1, help="At most this many, newest first."),
    as_json: bool = JSON_OPT,
) -> None:
    """List tickets, newest first."""
    from integrations.ticketing.models import Ticket

    if status not in ("open", "queued", "done", "all"):
        raise InvalidInputError("--status must be open, queued, done or all.")
    services = common.open_services()
    with services.db.session() as session:
        stmt = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
        if status != "all":
            stmt = stmt.where(Ticket.status_category == status)
        if requester:
            stmt = stmt.where(Ticket.requester_email == requester)
        rows = [_ticket_dict(t) for t in session.scalars(stmt).all()]
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
    from integrations.ticketing.models import TicketComment, TicketEvent

    services = common.open_services()
    with services.db.session() as session:
        t = _load(session, key)
        data = _ticket_dict(t)
        data["description"] = t.description
        data["components"], data["labels"] = t.components, t.labels
        data["comments"] = [{"author": c.author, "body": c.body, "from_requester": c.from_requester,
                             "created_at": c.created_at} for c in session.scalars(
            select(TicketComment).where(TicketComment.ticket_id == t.id).order_by(TicketComment.id))]
        data["events"] = [{"kind": e.kind, "actor": e.actor, "data": e.data, "created_at": e.created_at}
                          for e in session.scalars(select(TicketEvent).where(
                              TicketEvent.ticket_id == t.id).order_by(TicketEvent.id))]
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
    from integrations.ticketing.updates import apply_comment

    if not text.strip():
        raise InvalidInputError("The comment is empty.")
    services = common.open_services()
    with services.db.session() as session:
        t = _load(session, key, local_only=True)
        apply_comment(session, t, author=author or _default_author(), body=text.strip())
        data = _ticket_dict(t)
    print_json(data) if as_json else console.print(f"Comment added to {data['key']}; the employee will be notified.")


@app.command("assign")
@user_errors
def assign(
    key: str = typer.Argument(..., help="Ticket key."),
    assignee: str = typer.Argument(..., help="Who works on it (name or e-mail); '-' to unassign."),
    as_json: bool = JSON_OPT,
) -> None:
    """Assign a local-queue ticket."""
    from integrations.ticketing.updates import apply_assignee, apply_status

    services = common.open_services()
    with services.db.session() as session:
        t = _load(session, key, local_only=True)
        apply_assignee(session, t, None if assignee == "-" else assignee, actor=_default_author())
        if t.status_category == "open" and t.status == "Open" and t.assignee:
            apply_status(session, t, status="In Progress", category="open", actor=_default_author())
        data = _ticket_dict(t)
    print_json(data) if as_json else console.print(f"{data['key']} assigned to {data['assignee'] or 'nobody'}.")


@app.command("resolve")
@user_errors
def resolve(
    key: str = typer.Argument(..., help="Ticket key."),
    resolution: str = typer.Option("Done", help="Resolution shown to the employee."),
    comment_text: Optional[str] = typer.Option(None, "--comment", help="A closing note for the employee."),
    as_json: bool = JSON_OPT,
) -> None:
    """Resolve a local-queue ticket; the employee is told and asked for a rating."""
    from integrations.ticketing.updates import apply_comment, apply_status

    services = common.open_services()
    with services.db.session() as session:
        t = _load(session, key, local_only=True)
        if t.status_category == "done":
            raise InvalidInputError(f"{t.key} is already resolved (reopen it first).")
        if comment_text:
            apply_comment(session, t, author=_default_author(), body=comment_text)
        apply_status(session, t, status="Resolved", category="done", resolution=resolution,
                     actor=_default_author())
        data = _ticket_dict(t)
    print_json(data) if as_json else console.print(f"{data['key']} resolved; the employee will be asked to rate it.")


@app.command("reopen")
@user_errors
def reopen(key: str = typer.Argument(..., help="Ticket key."), as_json: bool = JSON_OPT) -> None:
    """Reopen a resolved local-queue ticket."""
    from integrations.ticketing.updates import apply_status

    services = common.open_services()
    with services.db.session() as session:
        t = _load(session, key, local_only=True)
        apply_status(session, t, status="Open", category="open", actor=_default_author())
        data = _ticket_dict(t)
    print_json(data) if as_json else console.print(f"{data['key']} reopened.")


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
    from bot.storage.base import utcnow
    from integrations.ticketing.models import Ticket, TicketOutbox
    from integrations.ticketing.service import reroute
    from integrations.ticketing.worker import run_once

    services = common.open_services()
    with services.db.session() as session:
        chosen = [TicketOutbox.id.in_(retry)]
        if retry_failed:
            chosen.append(TicketOutbox.status == "failed")
        rows = session.scalars(select(TicketOutbox).where(or_(*chosen))).all()
        if retry and len({r.id for r in rows} & set(retry)) < len(set(retry)):
            raise InvalidInputError("Unknown outbox row in --retry (see `helpdesk tickets outbox`).")
        requeued, already_queued, already_done = [], [], []
        for row in rows:
            # only failed rows: a pending row may be in flight right now (claimed by a worker that
            # is talking to Jira); resetting it would send the same ticket twice
            if row.status == "failed":
                row.status, row.next_attempt_at = "pending", utcnow()
                reroute(services.settings, session.get(Ticket, row.ticket_id))
                requeued.append(row.id)
            elif row.status == "pending":
                already_queued.append(row.id)
            else:
                already_done.append(row.id)
    result = run_once(services) if deliver else None
    with services.db.session() as session:
        stmt = (select(TicketOutbox, Ticket).join(Ticket, Ticket.id == TicketOutbox.ticket_id)
                .order_by(TicketOutbox.id))
        if not show_all:
            stmt = stmt.where(TicketOutbox.status != "done")
        data = [{"id": o.id, "kind": o.kind, "status": o.status, "attempts": o.attempts,
                 "next_attempt_at": o.next_attempt_at,
                 "last_error": o.last_error, "ticket": t.key, "idem_key": t.idem_key, "summary": t.summary,
                 "requester": t.requester_email or t.requester_user_key}
                for o, t in session.execute(stmt).all()]
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
