"""The engine: turns a channel-agnostic Message into a Reply.

1. load the user's conversation state (database)
2. dispatch: a button goes to its flow; free text goes to the active
   multi-turn flow, else to the router (understand + confidence policy)
3. save state, the redacted transcript and an analytics event — one transaction
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.errors import HelpdeskError, InvalidInputError, NotPermittedError, RateLimitedError, StorageError
from bot.flows.base import TurnContext
from bot.flows.texts import BUTTON_EXPIRED, CANCELLED, DIDNT_CATCH, SOMETHING_WENT_WRONG
from bot.logs import bind_context
from bot.messages import Message, Outcome, Reply
from bot.redact import redact
from bot.services import Services
from bot.storage.base import utcnow
from bot.storage.models import AnalyticsEvent, ConversationState, TranscriptEntry

log = logging.getLogger(__name__)

# A reply carrying a credential is never written down, not even redacted.
SENSITIVE_TRANSCRIPT = "[a one-time credential was shown to the employee; not recorded]"
NOT_STORED = ("I couldn't save that just now, so nothing was done. Please send it again in a moment; "
              "if it keeps happening, IT staff have the details.")
# errors about the employee's own input: the form stays open so it can be corrected
KEEPS_THE_FLOW = (InvalidInputError, NotPermittedError, RateLimitedError)
CANCEL_WORDS = {"cancel", "stop", "never mind", "nevermind", "forget it", "abort", "quit"}


class Engine:
    """Plain Python: call ``handle`` from a test, a CLI, or a channel adapter."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def handle(self, message: Message) -> Reply:
        """Process one message or button press and return the reply.

        The database being unreachable or locked is a user-safe reply, never an
        exception: nothing of the turn was stored, so the employee can simply
        send it again.
        """
        turn_id = uuid.uuid4().hex
        with bind_context(turn=turn_id[:12], user=message.user_key, channel=message.channel):
            try:
                reply = self._turn(message, turn_id)
            except (StorageError, SQLAlchemyError) as exc:
                log.warning("turn not stored: %s", type(exc).__name__)
                return Reply(text=NOT_STORED, outcome=Outcome.ERROR, private=True, turn_id=turn_id)
            log.info("turn done", extra={"intent": reply.intent, "outcome": reply.outcome.value})
            return reply

    def _turn(self, message: Message, turn_id: str) -> Reply:
        with self.services.db.session() as session:
            state = self._load_state(session, message.user_key)
            ctx = TurnContext(message=message, session=session, state=state, turn_id=turn_id,
                              secrets=self.services.secrets,
                              encode=lambda text: self.services.encoder.encode_one(text))
            reply = self._dispatch_safely(ctx)
            reply.turn_id = turn_id
            self._record(ctx, reply)
        if ctx.reply_not_before is not None:
            time.sleep(max(0.0, ctx.reply_not_before - time.monotonic()))
        return reply

    # ------------------------------------------------------------------
    def _load_state(self, session: Session, user_key: str) -> ConversationState:
        """The user's state, locked for this turn on PostgreSQL.

        PostgreSQL: the row is created if new (``ON CONFLICT DO NOTHING``, so two
        replicas' first messages of one user do not race) and locked ``FOR UPDATE``:
        one user's turns are serialised, other users are not affected.

        SQLite locks the whole database on the first write, so nothing is written
        here: the state is read, detached from the session, and written back by
        ``_save_state`` at the end of the turn. Encoding, directory calls and
        waiting never happen inside a write transaction.
        """
        dialect = session.get_bind().dialect.name
        if dialect == "sqlite":
            found = session.scalars(select(ConversationState).where(ConversationState.user_key == user_key)).first()
            if found is None:
                return ConversationState(user_key=user_key, slots={})
            session.expunge(found)
            return found
        if dialect == "postgresql":
            session.execute(postgresql_insert(ConversationState)
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

    @staticmethod
    def _save_state(session: Session, state: ConversationState) -> None:
        """Write a detached (SQLite) state back in one short upsert at the end of the turn."""
        if state in session:
            return  # persistent (PostgreSQL): the commit writes it
        values = {"active_flow": state.active_flow, "slots": dict(state.slots or {}),
                  "last_turn_id": state.last_turn_id, "updated_at": utcnow()}
        session.execute(sqlite_insert(ConversationState).values(user_key=state.user_key, **values)
                        .on_conflict_do_update(index_elements=["user_key"], set_=values))

    def _dispatch_safely(self, ctx: TurnContext) -> Reply:
        """Run the turn in a savepoint; on failure undo it and answer with a user-safe message.

        Bad input (an invalid form field, a refusal, a rate limit) keeps the
        conversation where it was, so the employee can correct it; any other
        failure also ends the active flow, so the next message is not taken as
        the answer to a form that failed.
        """
        before = (ctx.state.active_flow, copy.deepcopy(ctx.state.slots))
        savepoint = ctx.session.begin_nested()
        try:
            reply = self._dispatch(ctx)
            savepoint.commit()
            return reply
        except HelpdeskError as exc:
            savepoint.rollback()
            self._restore(ctx, before, keep_flow=isinstance(exc, KEEPS_THE_FLOW))
            log.warning("turn failed: %s (%s)", type(exc).__name__, exc.detail or exc.user_message)
            return Reply(text=exc.user_message, outcome=Outcome.ERROR, private=True)
        except Exception:
            savepoint.rollback()
            self._restore(ctx, before, keep_flow=False)
            log.exception("unexpected error in turn")
            return Reply(text=SOMETHING_WENT_WRONG, outcome=Outcome.ERROR, private=True)

    @staticmethod
    def _restore(ctx: TurnContext, before: tuple[str | None, dict[str, Any]], *, keep_flow: bool) -> None:
        if keep_flow:
            ctx.state.active_flow, ctx.state.slots = before
        else:
            ctx.finish()

    def _dispatch(self, ctx: TurnContext) -> Reply:
        flows = self.services.flows
        message = ctx.message
        if message.action is not None:
            flow = flows.get(message.action.flow)
            if flow is None:
                return Reply(text=BUTTON_EXPIRED, outcome=Outcome.ERROR)
            return flow.handle_action(ctx, message.action)
        text = message.text.strip()
        if not text:
            return Reply(text=DIDNT_CATCH, outcome=Outcome.INFO)
        active = ctx.state.active_flow
        if active:
            if text.lower().strip(".! ") in CANCEL_WORDS:
                ctx.finish()
                return Reply(text=CANCELLED, outcome=Outcome.INFO)
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
        self._save_state(ctx.session, ctx.state)
