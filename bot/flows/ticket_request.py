"""The request a ticket is about: the turns from its first message to the submission, and its topic.

A ticket carries *this* request only — not an earlier, unrelated question of the same
day. Walking back from the newest turn, the request stops at a gap longer than
``REQUEST_GAP``, at an earlier escalation (that was another request), or at a turn about
a different topic. Button presses read as what the employee chose (never action ids).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.flows.base import TurnContext
from bot.messages import Outcome
from bot.storage.base import minute_stamp, utcnow
from bot.storage.models import AnalyticsEvent, TranscriptEntry

REQUEST_GAP = dt.timedelta(minutes=30)  # the conversation policy's flow expiry: a longer pause is a new request
LOOKBACK = dt.timedelta(hours=4)
# intents that say how to proceed, not what the problem is: they never end a request nor name its topic
NOT_A_TOPIC = frozenset({"greet", "goodbye", "thanks", "bot_capabilities", "affirm", "deny", "out_of_scope",
                         "open_ticket", "talk_to_human", "ticket_status", "my_tickets", "cancel", "nlu_fallback"})
# what the employee chose, for the action ids a ticket's transcript may contain
ACTION_WORDS = {
    "ticket.open": "Open a ticket", "ticket.submit": "Send the ticket", "ticket.urgency": "an urgency",
    "ticket.cancel": "Cancel",
    "ticket.comment_existing": "Add to my existing ticket", "ticket.status": "Ticket status",
    "ticket.mine": "My tickets", "ticket.rate": "a rating", "ticket.reopen": "Reopen the ticket",
    "ticket.add_comment": "Add a comment", "answer.feedback": "feedback on the article",
    "router.choose": "one of the suggested topics", "router.none": "None of these",
    "account.check": "Unlock my account", "account.unlock": "Unlock my account",
    "account.reset_start": "Reset my password", "account.reset_link": "Send me a reset link",
    "account.reset_temporary": "Set a temporary password", "account.open_reset": "Choose a new password",
    "account.cancel": "Cancel", "account.ticket": "Open a ticket", "smalltalk.capabilities": "What can you do?",
}
_ACTION_LINE = re.compile(r"^\[([a-z_]+\.[a-z_]+)\]$")


def chosen(text: str) -> str:
    """A transcript line as the employee meant it: ``[ticket.open]`` → ``(chose: Open a ticket)``."""
    match = _ACTION_LINE.match(text.strip())
    if not match:
        return text
    return f"(chose: {ACTION_WORDS.get(match.group(1), 'a button')})"


@dataclass
class RequestWindow:
    """The turns of one request, oldest first, with what they tell about it."""

    lines: list[tuple[str, str, str]] = field(default_factory=list)  # (time, speaker, text)
    topic: str | None = None  # the request's intent, when one is known
    articles: list[str] = field(default_factory=list)  # articles answered during this request
    words: list[str] = field(default_factory=list)  # the employee's own typed messages

    def add_current(self, ctx: TurnContext) -> None:
        """The submission itself (it is recorded after the turn, so it is not in the transcript yet)."""
        message = ctx.message
        said = (f"(chose: {ACTION_WORDS.get(message.action.action_id, 'a button')})" if message.action
                else ctx.redact(message.text).strip())
        if said:
            self.lines.append((minute_stamp(utcnow()), "user", said))
            if message.action is None and len(said.split()) >= 3:
                self.words.append(said)


def request_window(ctx: TurnContext, *, max_lines: int) -> RequestWindow:
    """The current request's turns (already redacted), found by walking back from the newest turn.

    Turns are the engine's analytics events (one per turn: intent, outcome, article); their
    transcript lines are attached by turn id.
    """
    now = utcnow()
    events = ctx.session.scalars(
        select(AnalyticsEvent).where(AnalyticsEvent.user_key == ctx.message.user_key,
                                     AnalyticsEvent.created_at >= now - LOOKBACK)
        .order_by(AnalyticsEvent.id.desc()).limit(max(2, max_lines) * 2)).all()
    lines_of: dict[str, list[TranscriptEntry]] = {}
    if events:
        for row in ctx.session.scalars(select(TranscriptEntry).where(
                TranscriptEntry.turn_id.in_([e.turn_id for e in events])).order_by(TranscriptEntry.id)):
            lines_of.setdefault(row.turn_id, []).append(row)
    window = RequestWindow()
    kept: list[AnalyticsEvent] = []
    newer = now
    topic: str | None = None
    for event in events:  # newest first
        if newer - event.created_at > REQUEST_GAP:
            break
        if event.outcome == Outcome.ESCALATED.value:
            break  # that turn handed an earlier request to IT
        if event.intent and event.intent not in NOT_A_TOPIC:
            if topic is not None and event.intent != topic:
                break
            topic = event.intent
        kept.append(event)
        newer = event.created_at
        if event.top_article_id and event.outcome == Outcome.ANSWERED.value:
            window.articles.insert(0, event.top_article_id)
    window.topic = topic
    for event in reversed(kept):
        for entry in lines_of.get(event.turn_id, []):
            text = chosen(entry.text) if entry.speaker == "user" else entry.text
            window.lines.append((minute_stamp(entry.created_at), entry.speaker, text))
            if entry.speaker == "user" and text == entry.text and len(text.split()) >= 3:
                window.words.append(text.strip())
    window.lines = window.lines[-max_lines:] if max_lines else []
    window.articles = list(dict.fromkeys(window.articles))
    return window
