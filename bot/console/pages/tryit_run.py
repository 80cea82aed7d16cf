"""A trainer's trial question: the router's real decision and reply, without any side effect.

The router and the answer flow run as in a turn, but:

* action flows (tickets, account actions) are replaced by stand-ins that only say what would happen,
  so nothing is opened, reset or unlocked and no outside system is called;
* the turn runs in a database transaction that is rolled back, and the engine's recording step
  (state, transcript, analytics event) is never called: a trial is not a turn, and it never counts
  in analytics, ratings or the gaps inbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.analytics.figures import TRIAL_CHANNEL
from bot.flows.answer import AnswerFlow
from bot.flows.base import TurnContext
from bot.flows.router import RouterFlow
from bot.flows.routing import explicit_request, label_for
from bot.flows.urgent import detect
from bot.messages import Action, Message, Outcome, Reply
from bot.services import Services
from bot.storage.models import ConversationState
from knowledge_base.explain import SearchExplanation, explain

NOT_RUN = "Try it does not run actions: here the bot would {what}."


class _StandIn:
    """An action flow that records what it was asked to do and does nothing."""

    def __init__(self, name: str, calls: list[str]) -> None:
        self.name = name
        self.calls = calls

    def handle_intent(self, ctx: TurnContext) -> Reply:
        intent = ctx.parse.intent.name if ctx.parse is not None else self.name
        self.calls.append(f"{self.name} flow ({intent})")
        return Reply(text=NOT_RUN.format(what=f"start “{label_for(intent)}” (the {self.name} flow)"),
                     outcome=Outcome.INFO)

    def handle_action(self, ctx: TurnContext, action: Action) -> Reply:
        self.calls.append(f"{self.name} flow ({action.action_id})")
        return Reply(text=NOT_RUN.format(what=f"open the {self.name} form ({action.action_id})"),
                     outcome=Outcome.COLLECTING)

    def handle_followup(self, ctx: TurnContext) -> Reply | None:
        return None


class _Traced:
    """A real flow whose use is noted."""

    def __init__(self, inner: Any, calls: list[str]) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = calls

    def handle_intent(self, ctx: TurnContext) -> Reply:
        self.calls.append(f"{self.name} flow")
        reply: Reply = self.inner.handle_intent(ctx)
        return reply

    def handle_action(self, ctx: TurnContext, action: Action) -> Reply:
        reply: Reply = self.inner.handle_action(ctx, action)
        return reply

    def handle_followup(self, ctx: TurnContext) -> Reply | None:
        return None


@dataclass
class Trial:
    """What the bot understood, how it routed, what it would reply, and the knowledge base's scores."""

    question: str
    audience: str
    intent: str
    confidence: float
    ranking: list[tuple[str, float]]
    out_of_scope: bool
    low_confidence: float
    high_confidence: float
    route: list[str]
    notes: list[str]
    reply: Reply
    search: SearchExplanation | None = None
    buttons: list[str] = field(default_factory=list)


SAFE_FLOWS = ("answer", "smalltalk")


def run_trial(services: Services, question: str, groups: frozenset[str], *, asker: str) -> Trial:
    """Ask ``question`` as an employee in ``groups`` would; nothing is stored, sent or opened."""
    kb = services.kb
    kb.bootstrap()
    calls: list[str] = []
    real = services.flows
    flows: dict[str, Any] = {}
    router = RouterFlow(lambda: services.nlu, services.settings.nlu, flows)
    flows["router"] = router
    for name, flow in real.items():
        if name != "router":
            flows[name] = _Traced(flow, calls) if name in SAFE_FLOWS else _StandIn(name, calls)
    message = Message(text=question, user_key=f"{TRIAL_CHANNEL}:{asker}", channel=TRIAL_CHANNEL,
                      groups=groups, is_private=True)
    session = services.db.sessionmaker()
    try:
        ctx = TurnContext(message=message, session=session, state=ConversationState(user_key=message.user_key,
                                                                                     slots={}),
                          secrets=services.secrets, encode=lambda text: services.encoder.encode_one(text))
        reply = router.handle_intent(ctx)
        parse = router.understand(ctx)
        search = None
        if any(c.startswith("answer") for c in calls):
            result = kb.search(question, ctx.embed(), groups=groups, k=5, session=session)
            answer = real["answer"]
            if isinstance(answer, AnswerFlow):
                answer.second_opinion(result, parse)  # the answer flow's own decision, intent included
            search = explain(result)
    finally:
        session.rollback()
        session.close()
    notes = []
    asked = explicit_request(question)
    if asked is not None:
        notes.append(f"an explicit request for {'a person' if asked[0] == 'human' else 'a ticket'} wins over an answer")
    situation = detect(question)
    if situation is not None:
        notes.append(f"urgent situation recognised: {situation.kind.replace('_', ' ')} (its steps come first)")
    return Trial(question=question, audience=", ".join(sorted(groups)) or "everyone",
                 intent=parse.intent.name, confidence=round(float(parse.intent.confidence), 4),
                 ranking=[(s.name, round(float(s.confidence), 4)) for s in parse.ranking[:5]],
                 out_of_scope=parse.out_of_scope, low_confidence=router.settings.low_confidence,
                 high_confidence=router.settings.high_confidence, route=calls, notes=notes, reply=reply,
                 search=search, buttons=[b.label for b in reply.buttons])
