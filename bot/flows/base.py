"""What a flow is, and the per-turn context the engine hands it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.encoding import Vector
from bot.messages import Action, Message, Reply
from bot.redact import redact
from bot.storage.models import ConversationState, TranscriptEntry
from intents.paste import summarise

if TYPE_CHECKING:
    from intents.api import ParseResult


@dataclass
class TurnContext:
    """Everything a flow may use during one turn; all writes go through ``session``.

    The engine commits ``session`` once at the end of the turn, so the state,
    transcript, analytics and any outbox rows a flow adds are one transaction.
    """

    message: Message
    session: Session
    state: ConversationState
    turn_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # the configured secrets' plain values, masked by ``redact`` before anything is stored or sent
    secrets: tuple[str, ...] = ()
    # the encoder's ``encode_one``; called at most once per turn through ``embed``
    encode: Callable[[str], Vector] | None = None
    parse: ParseResult | None = None
    embedding: Vector | None = None
    # analytics hints a flow may fill in
    top_article_id: str | None = None
    kb_score: float | None = None
    # a flow that must not answer sooner (uniform reply time for account refusals) sets a
    # time.monotonic() deadline; the engine waits *after* committing, never inside a transaction
    reply_not_before: float | None = None

    # --- multi-turn state -------------------------------------------------
    @property
    def slots(self) -> dict[str, Any]:
        if self.state.slots is None:
            self.state.slots = {}
        return self.state.slots

    def begin(self, flow: str, **slots: Any) -> None:
        """Make ``flow`` receive the user's next free-text message."""
        self.state.active_flow = flow
        self.state.slots = dict(slots)

    def update_slots(self, **slots: Any) -> None:
        self.state.slots = {**(self.state.slots or {}), **slots}

    def finish(self) -> None:
        """End the active multi-turn flow."""
        self.state.active_flow = None
        self.state.slots = {}

    # --- helpers ------------------------------------------------------------
    @property
    def understood_text(self) -> str:
        """What the message is understood by: a long paste's prose and telling log lines (``intents.paste``).

        ``message.text`` stays whole: the transcript, and so any ticket, keeps the full paste.
        """
        return summarise(self.message.text)

    def embed(self) -> Vector:
        """The embedding of :attr:`understood_text`, computed at most once per turn and shared."""
        if self.embedding is None:
            if self.encode is None:
                raise RuntimeError("this turn has no encoder (TurnContext.encode is unset)")
            self.embedding = self.encode(self.understood_text)
        return self.embedding

    def redact(self, text: str) -> str:
        """``text`` with the configured secrets and credential shapes masked."""
        return redact(text, self.secrets)

    def recent_transcript(self, limit: int = 20) -> list[TranscriptEntry]:
        """The user's latest transcript lines (already redacted), oldest first."""
        rows = self.session.scalars(
            select(TranscriptEntry)
            .where(TranscriptEntry.user_key == self.message.user_key)
            .order_by(TranscriptEntry.id.desc())
            .limit(limit)
        ).all()
        return list(reversed(rows))


class Flow(Protocol):
    """A conversation capability. ``name`` is the prefix of its action ids."""

    name: str

    def handle_intent(self, ctx: TurnContext) -> Reply:
        """React to an understood intent (``ctx.parse``)."""
        ...

    def handle_action(self, ctx: TurnContext, action: Action) -> Reply:
        """React to a button or form submission whose action_id starts with ``name.``."""
        ...

    def handle_followup(self, ctx: TurnContext) -> Reply | None:
        """Free text while this flow is active; None hands the message back to the router."""
        ...
