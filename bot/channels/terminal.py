"""`helpdesk chat`: the terminal channel. Renders a Reply with rich; buttons become numbered choices."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.prompt import Prompt

from bot.engine import Engine, is_cancel
from bot.messages import Action, Button, FormRequest, Message, Outcome, Reply, plain_text
from bot.notify import take_for_user
from bot.services import Services
from integrations.ticketing.base import URGENCIES

HELP = ("Type your question. Pick a choice by its number. \"cancel\" stops a form. "
        "/help shows this, /quit (or Ctrl-C) leaves.")


class Cancelled(Exception):
    """The employee typed "cancel" in a form field."""


def render_reply(console: Console, reply: Reply, *, start: int = 1) -> list[Button]:
    """Print a reply in plain text (no Slack markup); return the buttons in the order they were numbered.

    ``start``: the number of the first choice (choices of several notifications shown together
    keep counting, so an earlier one's choices still work).
    """
    console.print(f"[bold cyan]helpdesk[/]: {escape(plain_text(reply.text))}", highlight=False)
    if reply.quote:
        console.print(Panel(escape(plain_text(reply.quote)), border_style="dim", expand=False))
    for source in reply.sources[:1]:
        review = f" (review by {source.review_by})" if source.review_by else ""
        section = f" › {escape(source.section)}" if source.section else ""
        console.print(f"  Source: [link={source.url}]{escape(source.title)}[/link]{section}{review}"
                      f" <{source.url}>", highlight=False)
    if reply.related:
        console.print("  Related: " + ", ".join(
            f"[link={r.url}]{escape(r.title)}[/link]" for r in reply.related), highlight=False)
    if reply.ticket_key:
        link = f" <{reply.ticket_url}>" if reply.ticket_url else ""
        console.print(f"  Ticket: [bold]{escape(reply.ticket_key)}[/]{link}", highlight=False)
    numbered = [b for b in reply.buttons if not b.url]
    for i, button in enumerate(numbered, start):
        console.print(f"  [bold]{i}[/]. {escape(plain_text(button.label))}", highlight=False)
    for button in reply.buttons:
        if button.url:
            console.print(f"  {escape(plain_text(button.label))}: {button.url}", highlight=False)
    return numbered


def _pick_urgency(answer: str, default: str) -> str | None:
    """An urgency from its name or its number in the list (1 = low …), or None."""
    answer = answer.strip().lower() or default
    if answer.isdigit() and 1 <= int(answer) <= len(URGENCIES):
        return URGENCIES[int(answer) - 1]
    return answer if answer in URGENCIES else None


def collect_form(form: FormRequest, ask: Callable[..., str], console: Console | None = None,
                 error: str | None = None) -> dict[str, str]:
    """Ask for each field of a form in the terminal, with the prefilled values as defaults.

    "cancel" (or "never mind", "stop") at any field raises :class:`Cancelled`; the urgency
    accepts its name or its number.
    """
    if error and console is not None:
        console.print(f"[bold cyan]helpdesk[/]: {escape(error)}", highlight=False)
    values: dict[str, str] = {}
    for name, default in form.fields.items():
        if name == "urgency":
            choices = " ".join(f"{i}={u}" for i, u in enumerate(URGENCIES, 1))
            while True:
                answer = ask(f"Urgency ({choices})", default=str(default or "normal"))
                if is_cancel(answer or ""):
                    raise Cancelled
                picked = _pick_urgency(answer or "", str(default or "normal"))
                if picked is not None:
                    values[name] = picked
                    break
                if console is not None:
                    console.print(f"Please pick one of {choices}, or say cancel.", highlight=False)
        else:
            answer = (ask(name.capitalize() + " (or cancel)", default=str(default or "")) or "").strip()
            if is_cancel(answer):
                raise Cancelled
            values[name] = answer
    return values


def _quiet_console_logs() -> list[tuple[logging.Handler, int]]:
    """Log lines never appear in the chat: console handlers are raised above CRITICAL while it runs."""
    changed: list[tuple[logging.Handler, int]] = []
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler) \
                and getattr(handler, "stream", None) in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__):
            changed.append((handler, handler.level))
            handler.setLevel(logging.CRITICAL + 1)
    return changed


def run_chat(services: Services, *, user: str, email: str | None = None,
             console: Console | None = None, ask: Callable[..., str] | None = None,
             engine: Engine | None = None) -> None:
    """The interactive loop (``ask`` and ``engine`` are injectable for tests).

    Ctrl-C or end of input at any prompt leaves with a goodbye; nothing of a form left
    unfinished resumes in the next chat.
    """
    console = console or Console()
    ask = ask or (lambda prompt, **kw: Prompt.ask(prompt, console=console, **kw))
    engine = engine or Engine(services)
    user_key = f"terminal:{user}"
    quieted = _quiet_console_logs()
    try:
        engine.new_session(user_key)
        console.print(f"[bold]IT helpdesk[/] — chatting as {escape(user)}"
                      + (f" <{escape(email)}>" if email else "") + f". {HELP}", highlight=False)
        _loop(services, engine, console, ask, user=user, email=email)
    except (EOFError, KeyboardInterrupt):
        engine.new_session(user_key)  # a form interrupted by Ctrl-C never resumes later
        console.print("\nBye! Message me any time you need IT help.", highlight=False)
    finally:
        for handler, level in quieted:
            handler.setLevel(level)


def _loop(services: Services, engine: Engine, console: Console, ask: Callable[..., str], *,
          user: str, email: str | None) -> None:
    user_key = f"terminal:{user}"
    buttons: list[Button] = []
    while True:
        with services.db.session() as session:
            notes = take_for_user(session, user_key)
        if notes:
            buttons = []  # every notification's choices stay usable, numbered on from the last one
            for note in notes:
                console.print("[bold magenta]update[/]", highlight=False)
                buttons += render_reply(console, note, start=len(buttons) + 1)
        text = (ask("[bold green]you[/]") or "").strip()
        if text in ("/quit", "/exit", "quit", "exit"):
            engine.new_session(user_key)
            console.print("Bye! Message me any time you need IT help.", highlight=False)
            return
        if text == "/help":
            console.print(HELP)
            continue
        message = Message(text=text, user_key=user_key, channel="terminal", email=email, display_name=user)
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            chosen = buttons[int(text) - 1]
            message.action = Action(chosen.action_id, dict(chosen.value))
            message.text = chosen.label
        reply = engine.handle(message)
        error = None
        while reply.form is not None:
            form = reply.form
            if error is None:
                render_reply(console, reply)
            try:
                values = collect_form(form, ask, console, error)
            except Cancelled:
                reply = engine.handle(Message(text="cancel", user_key=user_key, channel="terminal", email=email,
                                              display_name=user))
                break
            reply = engine.handle(Message(text="", user_key=user_key, channel="terminal", email=email,
                                          display_name=user, action=Action(form.submit_action, values)))
            if reply.outcome is Outcome.ERROR and reply.form is None:
                # bad input: the form again, with the error and what was typed as the defaults
                error = plain_text(reply.text)
                reply = Reply(text=reply.text, outcome=reply.outcome,
                              form=FormRequest(form.kind, form.submit_action, form.title, values))
            else:
                error = None
        buttons = render_reply(console, reply)
