"""Runs a conversation story (YAML, in the spirit of Rasa's test stories) through the real engine.

A story is a list of steps. A step does one thing and may check the reply::

    - user: "open a ticket"             # the employee types
    - click: "Open a ticket"            # presses the button whose label contains this (last reply)
    - press: {action: router.none, value: {text: "…"}}   # a button from an older reply
    - submit_form: {summary: "", details: "x", urgency: normal}   # submits the last reply's form
    - wait_minutes: 31                  # the fake clock moves on
    - new_session: true                 # a new chat session starts (e.g. `helpdesk chat` again)
    - it_resolves: true                 # IT resolves the employee's latest ticket (notification queued)
    - it_comments: "Please restart"     # IT comments on it (notification queued)
    - terminal: ["1", "^C"]             # a `helpdesk chat` session; ^C is Ctrl-C, ^D end of input

Checks on a step (all case-insensitive substrings): ``bot`` / ``bot_not`` (the reply's
text), ``buttons`` / ``buttons_not`` (labels), ``outcome``, ``form`` (a form was
returned), ``ticket_opened`` (whether this step opened a ticket), ``shows`` /
``not_shows`` (what the terminal printed). Story checks: ``tickets`` (how many the
employee has at the end) and ``ticket`` (the latest one: ``summary``, ``summary_not``,
``details``, ``urgency``).

Whatever the story says, no ticket may appear in a step where the employee typed
free text: only a press of a button the bot offered (or a form submission) opens one,
or a typed "yes" to the bot's recap ("Shall I open it?").
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from sqlalchemy import func, select

from bot.engine import Engine
from bot.flows.account_words import affirms
from bot.messages import Action, Button, Message, Reply
from bot.services import Services
from bot.storage.base import utcnow
from integrations.ticketing.models import Ticket

STORIES = Path(__file__).parent / "stories"


class FakeClock:
    """A clock the story moves by hand (naive UTC, like ``utcnow``)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += dt.timedelta(minutes=minutes)


def load_stories() -> list[dict[str, Any]]:
    """Every story in ``stories/*.yml``, each tagged with the file it came from."""
    out = []
    for path in sorted(STORIES.glob("*.yml")):
        for story in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            story["_file"] = path.name
            out.append(story)
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]


def _has(haystack: str, needle: str) -> bool:
    return needle.lower() in haystack.lower()


class StoryRun:
    """One story's employee, clock and engine."""

    def __init__(self, services: Services, story: dict[str, Any]) -> None:
        self.services = services
        self.story = story
        self.name = str(story["story"])
        self.user = "story-" + _slug(self.name)
        self.user_key = f"terminal:{self.user}"
        self.clock = FakeClock()
        self.engine = Engine(services, clock=self.clock)
        self.last: Reply | None = None
        self.email = story.get("email")

    # ------------------------------------------------------------------
    def tickets(self) -> int:
        with self.services.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(Ticket)
                                      .where(Ticket.requester_user_key == self.user_key)) or 0)

    def latest_ticket(self) -> Ticket | None:
        with self.services.db.session() as session:
            ticket = session.scalars(select(Ticket).where(Ticket.requester_user_key == self.user_key)
                                     .order_by(Ticket.id.desc())).first()
            if ticket is not None:
                session.expunge(ticket)
            return ticket

    def _message(self, text: str, action: Action | None = None) -> Message:
        return Message(text=text, user_key=self.user_key, channel="terminal", email=self.email,
                       display_name=self.user, action=action)

    def _button(self, label: str) -> Button:
        assert self.last is not None, f"{self.name}: nothing to click yet"
        for button in self.last.buttons:
            if _has(button.label, label):
                return button
        raise AssertionError(f"{self.name}: no button {label!r} in {[b.label for b in self.last.buttons]}"
                             f" (reply: {self.last.text!r})")

    # ------------------------------------------------------------------
    def run(self) -> None:
        for number, step in enumerate(self.story.get("steps") or [], 1):
            self.step(number, step)
        self.check_story()

    def step(self, number: int, step: dict[str, Any]) -> None:
        where = f"{self.name} (step {number}: {step})"
        before = self.tickets()
        typed = False
        shown = ""
        # the bot's last reply asked "Open this ticket?" (its recap offers the button that sends it)
        asked_to_confirm = self.last is not None and any(b.action_id == "ticket.submit" for b in self.last.buttons)
        if "user" in step:
            self.last = self.engine.handle(self._message(str(step["user"])))
            typed = True
        elif "click" in step:
            button = self._button(str(step["click"]))
            self.last = self.engine.handle(self._message(button.label, Action(button.action_id, dict(button.value))))
        elif "press" in step:  # a button from an older reply (or a forged one): action id and value
            press = step["press"]
            action = Action(str(press["action"]), dict(press.get("value") or {}))
            self.last = self.engine.handle(self._message("", action))
        elif "submit_form" in step:
            assert self.last is not None and self.last.form is not None, f"{where}: no form to submit"
            values = {k: str(v) for k, v in (step["submit_form"] or {}).items()}
            self.last = self.engine.handle(self._message("", Action(self.last.form.submit_action, values)))
        elif "wait_minutes" in step:
            self.clock.advance(float(step["wait_minutes"]))
        elif "new_session" in step:
            self.engine.new_session(self.user_key)
        elif "it_resolves" in step or "it_comments" in step:
            self._it_acts(step)
        elif "terminal" in step:
            shown = self._terminal([str(i) for i in step["terminal"]])
        else:
            raise AssertionError(f"{where}: unknown step")
        opened = self.tickets() > before
        if typed:  # free text opens a ticket only as a typed "yes" to the bot's recap
            confirming = asked_to_confirm and affirms(str(step["user"]))
            assert confirming or not opened, f"{where}: a ticket was opened from free text, without a confirmation"
        if "ticket_opened" in step:
            assert opened == bool(step["ticket_opened"]), f"{where}: ticket opened = {opened}"
        self._check_reply(where, step)
        for text in step.get("shows") or []:
            assert _has(shown, text), f"{where}: the terminal did not show {text!r}:\n{shown}"
        for text in step.get("not_shows") or []:
            assert not _has(shown, text), f"{where}: the terminal showed {text!r}:\n{shown}"

    def _check_reply(self, where: str, step: dict[str, Any]) -> None:
        checks = ("bot", "bot_not", "buttons", "buttons_not", "outcome", "form")
        if not any(k in step for k in checks):
            return
        reply = self.last
        assert reply is not None, f"{where}: no reply"
        said = f"{reply.text!r}, buttons {[b.label for b in reply.buttons]}"
        for text in step.get("bot") or []:
            assert _has(reply.text, text), f"{where}: expected {text!r} in {said}"
        for text in step.get("bot_not") or []:
            assert not _has(reply.text, text), f"{where}: did not expect {text!r} in {said}"
        labels = " | ".join(b.label for b in reply.buttons)
        for text in step.get("buttons") or []:
            assert _has(labels, text), f"{where}: expected a button {text!r} in {said}"
        for text in step.get("buttons_not") or []:
            assert not _has(labels, text), f"{where}: did not expect a button {text!r} in {said}"
        if "outcome" in step:
            assert reply.outcome.value == step["outcome"], f"{where}: outcome {reply.outcome.value}, {said}"
        if "form" in step:
            assert (reply.form is not None) == bool(step["form"]), f"{where}: form = {reply.form}"

    def _it_acts(self, step: dict[str, Any]) -> None:
        from integrations.ticketing.updates import apply_comment, apply_status

        with self.services.db.session() as session:
            ticket = session.scalars(select(Ticket).where(Ticket.requester_user_key == self.user_key)
                                     .order_by(Ticket.id.desc())).first()
            assert ticket is not None, f"{self.name}: no ticket for IT to act on"
            if step.get("it_resolves"):
                apply_status(session, ticket, sink=self.services.notices, status="Resolved", category="done",
                             resolution="Fixed", actor="it-staff")
            if step.get("it_comments"):
                apply_comment(session, ticket, sink=self.services.notices, author="IT staff",
                              body=str(step["it_comments"]))

    def _terminal(self, inputs: list[str]) -> str:
        from bot.channels.terminal import run_chat

        out = io.StringIO()
        script = iter(inputs)

        def ask(prompt: str, **kw: Any) -> str:
            try:
                value = next(script)
            except StopIteration:
                raise EOFError from None
            if value == "^C":
                raise KeyboardInterrupt
            if value == "^D":
                raise EOFError
            out.write(f"[{prompt}] > {value}\n")
            return value

        run_chat(self.services, user=self.user, email=self.email, console=Console(file=out, width=200),
                 ask=ask, engine=self.engine)
        return out.getvalue()

    def check_story(self) -> None:
        if "tickets" in self.story:
            count = self.tickets()
            assert count == int(self.story["tickets"]), f"{self.name}: {count} tickets"
        expected = self.story.get("ticket")
        if expected:
            ticket = self.latest_ticket()
            assert ticket is not None, f"{self.name}: no ticket was opened"
            for text in expected.get("summary") or []:
                assert _has(ticket.summary, text), f"{self.name}: summary {ticket.summary!r} lacks {text!r}"
            for text in expected.get("summary_not") or []:
                assert not _has(ticket.summary, text), f"{self.name}: summary {ticket.summary!r} has {text!r}"
            for text in expected.get("details") or []:
                assert _has(ticket.description or "", text), f"{self.name}: description lacks {text!r}"
            if "urgency" in expected:
                assert ticket.urgency == expected["urgency"], f"{self.name}: urgency {ticket.urgency}"
