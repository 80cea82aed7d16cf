"""The engine: turns a channel-agnostic Message into a Reply.

1. load the user's conversation state (database)
2. dispatch: a button goes to its flow; free text goes to the active
   multi-turn flow, else to the router (understand + confidence policy).
   The conversation policy holds here for every flow: "cancel" / "never mind"
   leaves a form; so does a new, unrelated request (a confident *other* action,
   an urgent situation, or a question on another topic), which is then answered;
   a form not answered within ``conversation.flow_expiry_minutes`` is dropped;
   bad input re-asks the form's question with the error.
3. save state, the redacted transcript and an analytics event — one transaction
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from bot import metrics
from bot.config.core import ConversationSettings
from bot.errors import HelpdeskError, InvalidInputError, NotPermittedError, RateLimitedError, StorageError
from bot.flows.base import TurnContext
from bot.flows.router import RouterFlow
from bot.flows.routing import FORM_PURPOSES, INTENT_FLOWS, confident, explicit_request, flow_for, is_action
from bot.flows.texts import BUTTON_EXPIRED, CANCELLED, DIDNT_CATCH, EMPTY_ANSWER, FORM_LEFT, SOMETHING_WENT_WRONG
from bot.flows.urgent import detect
from bot.logs import bind_context
from bot.messages import Button, FormRequest, Message, Outcome, Reply
from bot.redact import redact
from bot.services import Services
from bot.storage.base import utcnow
from bot.storage.models import AnalyticsEvent, ConversationState, TranscriptEntry
from bot.turn_commit import NOT_CONFIRMED, was_stored

log = logging.getLogger(__name__)

# A reply carrying a credential is never written down, not even redacted.
SENSITIVE_TRANSCRIPT = "[a one-time credential was shown to the employee; not recorded]"
# The database is unreachable, locked or out of connections: the turn cannot be stored (NOT_STORED).
DATABASE_GONE = (OperationalError, InterfaceError, PoolTimeout)
NOT_STORED = ("I couldn't save that just now, so nothing was done. Please send it again in a moment; "
              "if it keeps happening, IT staff have the details.")
# errors about the employee's own input: the form stays open so it can be corrected
KEEPS_THE_FLOW = (InvalidInputError, NotPermittedError, RateLimitedError)
SHORT_REQUEST_WORDS = 8  # an action asked this briefly, while a form is open, is a new request
CANCEL_WORDS = {"cancel", "stop", "never mind", "nevermind", "forget it", "abort", "quit"}
CANCEL_RE = re.compile(
    r"^(?:(?:ok|okay|no|nah|nope|actually|sorry|please|hmm+)[\s,.!]+)*"
    r"(?:cancel|stop|never\s*mind|nvm|forget\s+(?:it|that|about\s+it)|abort|quit|exit|don'?t\s+bother|scrap\s+that)"
    r"(?:[\s,.!]+(?:it|that|this|the\s+ticket|the\s+form|please|thanks|thank\s+you|cancel|stop|never\s*mind|"
    r"forget\s+(?:it|that)|i\s+don'?t\s+need\s+it))*[\s.!]*$", re.I)
# a new question rather than an answer to the form's question
NEW_QUESTION = re.compile(
    r"\?\s*$|^\s*(?:actually|wait|also|btw|by\s+the\s+way|another\s+(?:question|thing)|different\s+question|"
    r"instead|hang\s+on|oh\s+and)\b|^\s*(?:how\s+(?:do|can|to|does|should|would|is)|what(?:'s|\s+is|\s+are|\s+do)|"
    r"where(?:'s|\s+is|\s+do|\s+can)|why\s+(?:is|does|do|can)|can\s+(?:i|you)|could\s+(?:i|you)|is\s+(?:there|it)|"
    r"do\s+(?:you|i)|does)\b", re.I)
PROMPT_SLOT = "_prompt"  # the engine's copy of the form's last question, to ask again after bad input
Clock = Callable[[], dt.datetime]


def is_cancel(text: str) -> bool:
    """Whether ``text`` asks to stop what is going on ("cancel", "never mind", "stop please")."""
    return text.lower().strip(".! ") in CANCEL_WORDS or bool(CANCEL_RE.match(text.strip()))


class _Savepoint:
    """Undo a failed turn's writes.

    PostgreSQL: a real SAVEPOINT. SQLite: a SAVEPOINT would open the transaction
    *before* the turn's reads, and a later write then fails at once ("database is
    locked", not even waiting) whenever another turn committed in between; so on
    SQLite nothing is opened here (the driver begins the transaction at the first
    write) and a failure rolls the whole session back instead — the engine's own
    state is detached there and written at the end of the turn anyway.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.nested = session.begin_nested() if session.get_bind().dialect.name != "sqlite" else None

    def commit(self) -> None:
        if self.nested is not None:
            self.nested.commit()

    def rollback(self) -> None:
        if self.nested is not None:
            self.nested.rollback()
        else:
            self.session.rollback()


class Engine:
    """Plain Python: call ``handle`` from a test, a CLI, or a channel adapter."""

    def __init__(self, services: Services, *, clock: Clock = utcnow) -> None:
        self.services = services
        self.clock = clock  # tests pass a fake clock (naive UTC, like ``utcnow``)
        self.conversation: ConversationSettings = services.settings.conversation

    def new_session(self, user_key: str) -> None:
        """A new chat session begins (e.g. ``helpdesk chat`` starts): nothing of an old form resumes."""
        with self.services.db.session() as session:
            state = self._load_state(session, user_key)
            if state.active_flow:
                state.active_flow, state.slots = None, {}
                state.updated_at = self.clock()
                self._save_state(session, state)

    def handle(self, message: Message) -> Reply:
        """Process one message or button press and return the reply.

        The database being unreachable or locked is a user-safe reply, never an
        exception: nothing of the turn was stored, so the employee can simply
        send it again. If the connection dropped during the commit itself, the
        database is asked whether the turn landed (bot.turn_commit): if it did,
        the real reply is given; if it cannot tell, the employee is told so.
        """
        turn_id = uuid.uuid4().hex
        started = time.monotonic()
        with bind_context(turn=turn_id[:12], user=message.user_key, channel=message.channel):
            kb_score: float | None = None
            written: list[tuple[Reply, TurnContext]] = []  # the turn, once only its commit is left
            try:
                reply, kb_score = self._turn(message, turn_id, written)
            except (StorageError, SQLAlchemyError) as exc:
                stored = was_stored(self.services.db, turn_id) if written else False
                log.warning("turn %s: %s", {True: "stored (the answer to its commit was lost)", False: "not stored",
                                            None: "may not be stored"}[stored], type(exc).__name__)
                if stored:
                    reply, kb_score = self._after_commit(*written[0])
                else:
                    reply = Reply(text=NOT_STORED if stored is False else NOT_CONFIRMED, outcome=Outcome.ERROR,
                                  private=True, turn_id=turn_id)
            else:
                log.info("turn done", extra={"intent": reply.intent, "outcome": reply.outcome.value})
            metrics.observe_turn(message.channel, reply.outcome.value, reply.intent, time.monotonic() - started,
                                 kb_score)
            return reply

    def _turn(self, message: Message, turn_id: str,
              written: list[tuple[Reply, TurnContext]]) -> tuple[Reply, float | None]:
        with self.services.db.session() as session:
            state = self._load_state(session, message.user_key)
            self._expire(state)
            ctx = TurnContext(message=message, session=session, state=state, turn_id=turn_id,
                              secrets=self.services.secrets,
                              encode=lambda text: self.services.encoder.encode_one(text))
            reply = self._dispatch_safely(ctx)
            reply.turn_id = turn_id
            self._record(ctx, reply)
            written.append((reply, ctx))
        return self._after_commit(reply, ctx)

    @staticmethod
    def _after_commit(reply: Reply, ctx: TurnContext) -> tuple[Reply, float | None]:
        if ctx.reply_not_before is not None:  # the account padding waits after the commit
            time.sleep(max(0.0, ctx.reply_not_before - time.monotonic()))
        return reply, ctx.kb_score

    # ------------------------------------------------------------------
    def _load_state(self, session: Session, user_key: str) -> ConversationState:
        """The user's state, locked for this turn on PostgreSQL.

        PostgreSQL: the row is created if new (``ON CONFLICT DO NOTHING``, so two
        replicas' first messages of one user do not race) and locked ``FOR UPDATE``:
        one user's turns are serialised, other users are not affected.

        SQLite locks the whole database on the first write, so nothing is written
        here: the state is read, and written back by ``_save_state`` at the end of
        the turn. Encoding, directory calls and waiting never happen inside a write
        transaction.

        Either way the state comes back detached from the session (plain Core
        statements: the hot path skips the ORM's identity map and unit of work) and
        ``_save_state`` writes it back in one upsert inside the turn's transaction.
        """
        conn = session.connection()
        params = {"user_key": user_key}
        if conn.dialect.name == "postgresql":
            conn.execute(_PG_CLAIM_STATE, {"user_key": user_key, "slots": {}, "updated_at": utcnow()})
            row = conn.execute(_SELECT_STATE_FOR_UPDATE, params).first()
        else:
            row = conn.execute(_SELECT_STATE, params).first()
        if row is None:
            return ConversationState(user_key=user_key, slots={})
        return ConversationState(user_key=user_key, active_flow=row.active_flow, slots=row.slots,
                                 last_turn_id=row.last_turn_id, updated_at=row.updated_at)

    @staticmethod
    def _save_state(session: Session, state: ConversationState) -> None:
        """Write the (detached) state back in one short upsert at the end of the turn."""
        if state in session:
            return  # attached by a caller: the commit writes it
        conn = session.connection()
        upsert = _UPSERT_STATE.get(conn.dialect.name)
        values = {"user_key": state.user_key, "active_flow": state.active_flow, "slots": dict(state.slots or {}),
                  "last_turn_id": state.last_turn_id, "updated_at": state.updated_at or utcnow()}
        if upsert is not None:
            conn.execute(upsert, values)
        else:  # another dialect: update, else insert
            key = values.pop("user_key")
            if not conn.execute(_STATE.update().where(_STATE.c.user_key == key).values(**values)).rowcount:
                conn.execute(insert(_STATE).values(user_key=key, **values))

    def _expire(self, state: ConversationState) -> None:
        """Drop a form nobody answered within ``flow_expiry_minutes``: it never resumes later."""
        if not state.active_flow or state.updated_at is None:
            return
        if self.clock() - state.updated_at > dt.timedelta(minutes=self.conversation.flow_expiry_minutes):
            log.info("form expired", extra={"flow": state.active_flow})
            state.active_flow, state.slots = None, {}

    def _dispatch_safely(self, ctx: TurnContext) -> Reply:
        """Run the turn in a savepoint; on failure undo it and answer with a user-safe message.

        Bad input (an invalid form field, a refusal, a rate limit) keeps the
        conversation where it was, so the employee can correct it; any other
        failure also ends the active flow, so the next message is not taken as
        the answer to a form that failed.
        """
        before = (ctx.state.active_flow, copy.deepcopy(ctx.state.slots))
        savepoint = _Savepoint(ctx.session)
        try:
            reply = self._dispatch(ctx)
            savepoint.commit()
            self._remember_prompt(ctx, reply)
            return reply
        except HelpdeskError as exc:
            savepoint.rollback()
            keep = isinstance(exc, KEEPS_THE_FLOW)
            self._restore(ctx, before, keep_flow=keep)
            if keep:  # the employee's own input: not an operational problem, so never a warning
                log.info("turn refused: %s (%s)", type(exc).__name__, exc.detail or exc.user_message)
                return self._ask_again(ctx, exc.user_message)
            log.warning("turn failed: %s (%s)", type(exc).__name__, exc.detail or exc.user_message)
            return Reply(text=exc.user_message, outcome=Outcome.ERROR, private=True)
        except DATABASE_GONE:
            raise  # the database went away mid-turn: ``handle`` answers NOT_STORED, no traceback
        except Exception:
            savepoint.rollback()
            self._restore(ctx, before, keep_flow=False)
            log.exception("unexpected error in turn")
            return Reply(text=SOMETHING_WENT_WRONG, outcome=Outcome.ERROR, private=True)

    @staticmethod
    def _remember_prompt(ctx: TurnContext, reply: Reply) -> None:
        """Keep the question a form asked, so bad input can be answered with the error *and* the question."""
        if ctx.state.active_flow and reply.outcome is Outcome.COLLECTING:
            form = reply.form
            ctx.update_slots(**{PROMPT_SLOT: {"text": reply.text, "buttons": [
                {"label": b.label, "action_id": b.action_id, "value": b.value, "style": b.style, "url": b.url}
                for b in reply.buttons], "form": None if form is None else {
                    "kind": form.kind, "submit_action": form.submit_action, "title": form.title,
                    "fields": dict(form.fields)}}})

    @staticmethod
    def _ask_again(ctx: TurnContext, error: str) -> Reply:
        """The error, then the form's question again (with its choices), when a form is still open."""
        prompt = ctx.slots.get(PROMPT_SLOT) if ctx.state.active_flow else None
        if not isinstance(prompt, dict) or not prompt.get("text"):
            return Reply(text=error, outcome=Outcome.ERROR, private=True)
        buttons = [Button(**b) for b in prompt.get("buttons") or [] if isinstance(b, dict)]
        form = None
        saved = prompt.get("form")
        if isinstance(saved, dict):  # the form again, filled in with what was submitted
            submitted = ctx.message.action.value if ctx.message.action is not None else {}
            fields = {k: (ctx.redact(str(submitted[k])) if k in submitted else v)
                      for k, v in dict(saved.get("fields") or {}).items()}
            form = FormRequest(kind=str(saved.get("kind")), submit_action=str(saved.get("submit_action")),
                               title=str(saved.get("title")), fields=fields)
        return Reply(text=f"{error}\n\n{prompt['text']}", outcome=Outcome.ERROR, private=True, buttons=buttons,
                     form=form)

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
        active = ctx.state.active_flow
        if not text:
            return self._ask_again(ctx, EMPTY_ANSWER) if active else Reply(text=DIDNT_CATCH, outcome=Outcome.INFO)
        if active:
            if is_cancel(text):
                ctx.finish()
                return Reply(text=CANCELLED, outcome=Outcome.INFO)
            if self._is_new_request(ctx, active):
                ctx.finish()
                answer = flows["router"].handle_intent(ctx)
                answer.text = f"{FORM_LEFT}\n\n{answer.text}"
                return answer
            ctx.parse = None  # an answer to the form: its intent is not the request's (the ticket keeps its own)
            flow = flows.get(active)
            if flow is not None:
                followup = flow.handle_followup(ctx)
                if followup is not None:
                    return followup
            ctx.finish()
        return flows["router"].handle_intent(ctx)

    def _is_new_request(self, ctx: TurnContext, active: str) -> bool:
        """Whether free text typed while a form is open is a new, unrelated request rather than its answer.

        New: an urgent situation the form is not already about; a confident *action* other
        than the form's purpose ("my tickets" in the ticket form); or a message phrased as a new
        question ("actually, how do I …", "…?") whose confident intent differs from the form's
        topic (the intent of its summary). An answer about the same topic stays in the form.
        """
        router = self.services.flows.get("router")
        if not isinstance(router, RouterFlow):
            return False
        text = ctx.message.text
        topic_text = str(ctx.slots.get("summary") or "")
        if detect(text) is not None and (not topic_text or detect(topic_text) is None):
            return True
        if explicit_request(text) is not None:
            return False  # "… please open a ticket" while in the ticket form: the form goes on
        parse = router.understand(ctx)
        top = parse.intent
        if not confident(parse, router.settings):
            return False
        purposes = FORM_PURPOSES.get(active) or frozenset(i for i, f in INTENT_FLOWS.items() if f == active)
        if top.name in purposes or flow_for(top.name) == "smalltalk":
            return False
        if is_action(top.name):
            # "my tickets" or "actually, unlock my account?" leave the form; a long answer that merely
            # mentions a password ("it asks for my password and then jams") is the form's answer
            return len(text.split()) <= SHORT_REQUEST_WORDS or bool(NEW_QUESTION.search(text))
        if not NEW_QUESTION.search(text):
            return False
        if topic_text:
            topic = router.parse_other(ctx, topic_text).intent
            if topic.name == top.name:
                return False
        return True

    def _record(self, ctx: TurnContext, reply: Reply) -> None:
        """The redacted transcript lines, the analytics event and the state: Core inserts in the turn's transaction."""
        message = ctx.message
        secrets = self.services.secrets
        said = message.text if message.action is None else f"[{message.action.action_id}]"
        question = redact(said, secrets)
        now = utcnow()
        line = {"turn_id": ctx.turn_id, "user_key": message.user_key, "channel": message.channel, "created_at": now}
        conn = ctx.session.connection()
        conn.execute(_INSERT_TRANSCRIPT, [
            {**line, "speaker": "user", "text": question},
            {**line, "speaker": "bot", "text": SENSITIVE_TRANSCRIPT if reply.sensitive
             else redact(reply.text, secrets)},
        ])
        conn.execute(_INSERT_ANALYTICS, {
            **line, "question": question, "intent": reply.intent, "confidence": reply.confidence,
            "outcome": reply.outcome.value, "top_article_id": ctx.top_article_id, "kb_score": ctx.kb_score,
        })
        ctx.state.last_turn_id = ctx.turn_id
        ctx.state.updated_at = self.clock()
        self._save_state(ctx.session, ctx.state)


# The per-turn statements, built once (the hot path: no ORM unit of work, no statement construction per turn).
_STATE = cast(Table, ConversationState.__table__)
_SELECT_STATE = select(_STATE.c.active_flow, _STATE.c.slots, _STATE.c.last_turn_id, _STATE.c.updated_at).where(
    _STATE.c.user_key == bindparam("user_key"))
_SELECT_STATE_FOR_UPDATE = _SELECT_STATE.with_for_update()
_PG_CLAIM_STATE = postgresql_insert(_STATE).on_conflict_do_nothing(index_elements=["user_key"])


def _upsert(stmt: Any) -> Any:
    return stmt.on_conflict_do_update(index_elements=["user_key"], set_={
        c: stmt.excluded[c] for c in ("active_flow", "slots", "last_turn_id", "updated_at")})


_UPSERT_STATE = {"sqlite": _upsert(sqlite_insert(_STATE)), "postgresql": _upsert(postgresql_insert(_STATE))}
_INSERT_TRANSCRIPT = insert(cast(Table, TranscriptEntry.__table__))
_INSERT_ANALYTICS = insert(cast(Table, AnalyticsEvent.__table__))
