"""The engine: turns a channel-agnostic Message into a Reply.

1. load the user's conversation state (database)
2. dispatch: a button goes to its flow; free text goes to the active
   multi-turn flow, else to the router (understand + confidence policy)
3. save state, the redacted transcript and an analytics event — one transaction
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.errors import HelpdeskError
from bot.flows.base import TurnContext
from bot.logs import bind_context
from bot.messages import Message, Outcome, Reply
from bot.redact import redact
from bot.services import Services
from bot.storage.base import utcnow
from bot.storage.models import AnalyticsEvent, ConversationState, TranscriptEntry

log = logging.getLogger(__name__)

# A reply carrying a credential is never written down, not even redacted.
SENSITIVE_TRANSCRIPT = "[a one-time credential was shown to the employee; not recorded]"
CANCEL_WORDS = {"cancel", "stop", "never mind", "nevermind", "forget it", "abort", "quit"}


class Engine:
    """Plain Python: call ``handle`` from a test, a CLI, or a channel adapter."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def handle(self, message: Message) -> Reply:
        """Process one message or button press and return the reply."""
        turn_id = uuid.uuid4().hex
        with bind_context(turn=turn_id[:12], user=message.user_key, channel=message.channel):
            with self.services.db.session() as session:
                state = self._load_state(session, message.user_key)
                ctx = TurnContext(message=message, services=self.services, session=session,
                                  state=state, turn_id=turn_id, secrets=self.services.secrets,
                                  encode=lambda text: self.services.encoder.encode_one(text))
                reply = self._dispatch_safely(ctx)
                reply.turn_id = turn_id
                self._record(ctx, reply)
            log.info("turn done", extra={"intent": reply.intent, "outcome": reply.outcome.value})
            return reply

    # ------------------------------------------------------------------
    def _load_state(self, session: Session, user_key: str) -> ConversationState:
        """The user's state row, created if new and locked (PostgreSQL) for this turn.

        Two first messages of a new user at once (two workers or replicas) both
        insert; ``ON CONFLICT DO NOTHING`` lets the second one simply read the row.
        """
        dialect = session.get_bind().dialect.name
        if dialect in ("postgresql", "sqlite"):
            insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
            session.execute(insert(ConversationState)
                            .values(user_key=user_key, slots={}, updated_at=utcnow())
                            .on_conflict_do_nothing(index_elements=["user_key"]))
        stmt = select(ConversationState).where(ConversationState.user_key == user_key)
        if dialect == "postgresql":
            stmt = stmt.with_for_update()
        state = session.scalars(stmt).first()
        if state is None:  # another dialect: plain insert
            state = ConversationState(user_key=user_key, slots={})
            session.add(state)
            session.flush()
        return state

    def _dispatch_safely(self, ctx: TurnContext) -> Reply:
        savepoint = ctx.session.begin_nested()
        try:
            reply = self._dispatch(ctx)
            savepoint.commit()
            return reply
        except HelpdeskError as exc:
            savepoint.rollback()
            log.warning("turn failed: %s (%s)", type(exc).__name__, exc.detail or exc.user_message)
            return Reply(text=exc.user_message, outcome=Outcome.ERROR, private=True)
        except Exception:
            savepoint.rollback()
            log.exception("unexpected error in turn")
            return Reply(
                text="Sorry, something went wrong on my side. Please try again, or ask for a ticket.",
                outcome=Outcome.ERROR,
                private=True,
            )

    def _dispatch(self, ctx: TurnContext) -> Reply:
        flows = self.services.flows
        message = ctx.message
        if message.action is not None:
            flow = flows.get(message.action.flow)
            if flow is None:
                return Reply(text="That button has expired. What can I help you with?",
                             outcome=Outcome.ERROR)
            return flow.handle_action(ctx, message.action)
        text = message.text.strip()
        if not text:
            return Reply(text="I didn't catch that. What can I help you with?", outcome=Outcome.INFO)
        active = ctx.state.active_flow
        if active:
            if text.lower().strip(".! ") in CANCEL_WORDS:
                ctx.finish()
                return Reply(text="OK, cancelled. What else can I help you with?",
                             outcome=Outcome.INFO)
            flow = flows.get(active)
            if flow is not None:
                reply = flow.handle_followup(ctx)
                if reply is not None:
                    return reply
            ctx.finish()
        return flows["router"].handle_intent(ctx)

    def _record(self, ctx: TurnContext, reply: Reply) -> None:
        message = ctx.message
        secrets = self.services.settings.secret_values()
        said = message.text if message.action is None else f"[{message.action.action_id}]"
        question = redact(said, secrets)
        ctx.session.add_all([
            TranscriptEntry(turn_id=ctx.turn_id, user_key=message.user_key, channel=message.channel,
                            speaker="user", text=question),
            TranscriptEntry(turn_id=ctx.turn_id, user_key=message.user_key, channel=message.channel,
                            speaker="bot", text=SENSITIVE_TRANSCRIPT if reply.sensitive
                            else redact(reply.text, secrets)),
            AnalyticsEvent(
                turn_id=ctx.turn_id, user_key=message.user_key, channel=message.channel,
                question=question, intent=reply.intent, confidence=reply.confidence,
                outcome=reply.outcome.value, top_article_id=ctx.top_article_id,
                kb_score=ctx.kb_score,
            ),
        ])
        ctx.state.last_turn_id = ctx.turn_id
