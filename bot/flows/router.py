"""The confidence policy: act, ask "Did you mean …?", or fall back to the knowledge base.

* confidence >= nlu.high_confidence: the intent's flow acts on it
* between low and high: the top candidates are offered as buttons
* below low, or out of scope: the knowledge base is searched; if it is not
  confident either, the answer flow says so plainly and offers a ticket
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.flows.base import Flow, TurnContext
from bot.flows.routing import flow_for, label_for
from bot.messages import Action, Button, Outcome, Reply
from intents.api import OUT_OF_SCOPE, IntentParser, IntentScore, ParseResult
from intents.settings import NluSettings

CHOOSE = "router.choose"
NONE_OF_THESE = "router.none"
MAX_CHOICES = 3


class RouterFlow:
    """Understands free text and hands it to the flow of its intent (or to the knowledge base)."""

    name = "router"

    def __init__(self, nlu: Callable[[], IntentParser], settings: NluSettings, flows: Mapping[str, Flow]) -> None:
        self._nlu = nlu
        self.settings = settings
        self.flows = flows  # the registry this router is part of

    def handle_intent(self, ctx: TurnContext) -> Reply:
        nlu = self.settings
        embedding = ctx.embed() if nlu.backend == "builtin" else None
        parse = self._nlu().parse(ctx.message.text, embedding=embedding)
        ctx.parse = parse
        top = parse.intent
        if parse.out_of_scope or top.name == OUT_OF_SCOPE or top.confidence < nlu.low_confidence:
            return self._finish(ctx, self.flows["answer"].handle_intent(ctx))
        if top.confidence < nlu.high_confidence:
            candidates = [s for s in parse.ranking if s.name != OUT_OF_SCOPE][:MAX_CHOICES]
            if len(candidates) > 1:
                return self._finish(ctx, self._clarify(ctx, candidates))
        return self._finish(ctx, self._run(ctx, top.name))

    def handle_action(self, ctx: TurnContext, action: Action) -> Reply:
        text = str(action.value.get("text", ""))
        ctx.message.text = text or ctx.message.text
        if action.action_id == CHOOSE:
            intent = str(action.value.get("intent", ""))
            ctx.parse = ParseResult(text=text, intent=IntentScore(intent, 1.0),
                                    ranking=[IntentScore(intent, 1.0)])
            return self._finish(ctx, self._run(ctx, intent))
        # "None of these": try the knowledge base, which offers a ticket if unsure.
        ctx.parse = ParseResult(text=text, intent=IntentScore(OUT_OF_SCOPE, 0.0), out_of_scope=True)
        return self._finish(ctx, self.flows["answer"].handle_intent(ctx))

    def handle_followup(self, ctx: TurnContext) -> Reply | None:
        return None

    # ------------------------------------------------------------------
    def _run(self, ctx: TurnContext, intent: str) -> Reply:
        flow = self.flows.get(flow_for(intent)) or self.flows["answer"]
        return flow.handle_intent(ctx)

    def _clarify(self, ctx: TurnContext, candidates: list[IntentScore]) -> Reply:
        text = ctx.message.text
        buttons = [
            Button(label=label_for(c.name), action_id=CHOOSE, value={"intent": c.name, "text": text})
            for c in candidates
        ]
        buttons.append(Button(label="None of these", action_id=NONE_OF_THESE, value={"text": text}))
        return Reply(text="I'm not sure I understood. Did you mean one of these?",
                     outcome=Outcome.CLARIFY, buttons=buttons)

    @staticmethod
    def _finish(ctx: TurnContext, reply: Reply) -> Reply:
        if ctx.parse is not None:
            if reply.intent is None:
                reply.intent = ctx.parse.intent.name
            if reply.confidence is None:
                reply.confidence = float(ctx.parse.intent.confidence)
            if not reply.entities:
                reply.entities = [e.to_rasa() for e in ctx.parse.entities]
        return reply
