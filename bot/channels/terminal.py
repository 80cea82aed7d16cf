"""`helpdesk chat`: the terminal channel. Renders a Reply with rich; buttons become numbered choices."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.prompt import Prompt

from bot.engine import Engine
from bot.messages import Action, Button, FormRequest, Message, Reply
from bot.notify import take_for_user
from bot.services import Services
from integrations.ticketing.base import URGENCIES

HELP = "Type your question. Pick a choice by its number. /help shows this, /quit leaves."


def render_reply(console: Console, reply: Reply) -> list[Button]:
    """Print a reply; return the buttons in the order they were numbered."""
    console.print(f"[bold cyan]helpdesk[/]: {escape(reply.text)}", highlight=False)
    if reply.quote:
        console.print(Panel(escape(reply.quote), border_style="dim", expand=False))
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
    for i, button in enumerate(numbered, 1):
        console.print(f"  [bold]{i}[/]. {escape(button.label)}", highlight=False)
    for button in reply.buttons:
        if button.url:
            console.print(f"  {escape(button.label)}: {button.url}", highlight=False)
    return numbered


def collect_form(form: FormRequest, ask: Callable[..., str]) -> dict[str, str]:
    """Ask for each field of a form in the terminal, with the prefilled values as defaults."""
    values: dict[str, str] = {}
    for name, default in form.fields.items():
        if name == "urgency":
            values[name] = ask("Urgency", choices=list(URGENCIES), default=str(default or "normal"))
        else:
            values[name] = ask(name.capitalize(), default=str(default or "")).strip()
    return values


def run_chat(services: Services, *, user: str, email: str | None = None,
             console: Console | None = None, ask: Callable[..., str] | None = None) -> None:
    """The interactive loop (``ask`` is injectable for tests)."""
    console = console or Console()
    ask = ask or (lambda prompt, **kw: Prompt.ask(prompt, console=console, **kw))
    engine = Engine(services)
    user_key = f"terminal:{user}"
    console.print(f"[bold]IT helpdesk[/] — chatting as {escape(user)}"
                  + (f" <{escape(email)}>" if email else "") + f". {HELP}", highlight=False)
    buttons: list[Button] = []
    while True:
        with services.db.session() as session:
            for note in take_for_user(session, user_key):
                console.print("[bold magenta]update[/]", highlight=False)
                buttons = render_reply(console, note)
        try:
            text = ask("[bold green]you[/]")
        except (EOFError, KeyboardInterrupt):
            console.print("Bye!")
            return
        text = (text or "").strip()
        if text in ("/quit", "/exit", "quit", "exit"):
            console.print("Bye!")
            return
        if text == "/help":
            console.print(HELP)
            continue
        message = Message(text=text, user_key=user_key, channel="terminal", email=email,
                          display_name=user)
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            chosen = buttons[int(text) - 1]
            message.action = Action(chosen.action_id, dict(chosen.value))
            message.text = chosen.label
        reply = engine.handle(message)
        if reply.form is not None:
            buttons = render_reply(console, reply)
            values = collect_form(reply.form, ask)
            reply = engine.handle(Message(text="", user_key=user_key, channel="terminal", email=email,
                                          display_name=user,
                                          action=Action(reply.form.submit_action, values)))
        buttons = render_reply(console, reply)
