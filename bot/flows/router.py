"""The confidence policy: act, ask "Did you mean …?", or let the knowledge base decide.

In order:

* an explicit request for a ticket or a person ("… can you open a ticket") starts the
  ticket form, with the rest of the message as the summary: it wins over an answer;
* an urgent situation (liquid damage, lost device, compromise, locked out before a
  deadline) gets its steps first, whatever the intent model says;
* a wh-question the intent model takes for a ticket or a person ("who do I call in IT?")
  is answered from the knowledge base when it can be (else the ticket flow runs);
* an *action* intent (reset, unlock, ticket, status) at confidence >= nlu.high_confidence
  runs its flow; between low and high, an article that answers the message is shown with the
  likely actions offered under it, and without one "Did you mean …?" offers only the actions
  among the top candidates — never topics;
* anything else (a knowledge question at any confidence, out of scope) goes to the
  knowledge base, which answers or declines plainly and offers a ticket.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.flows.base import Flow, TurnContext
from bot.flows.routing import (
    TICKET_INTENTS,
    asks_for_information,
    confident,
    explicit_request,
    flow_for,
    is_action,
    label_for,
)
from bot.flows.urgent import detect
from bot.messages import Action, Button, Outcome, Reply
from intents.api import OUT_OF_SCOPE, IntentParser, IntentScore, ParseResult
from intents.paste import relocate
from intents.settings import NluSettings

CHOOSE = "router.choose"
NONE_OF_THESE = "router.none"
MAX_CHOICES = 3
REPHRASE = ("Sorry, I got that wrong. Could you say it in other words? "
            "Or I can open a ticket so a person from IT looks at it.")
NOT_A_CATEGORY = {"greet", "goodbye", "thanks", "bot_capabilities", "affirm", "deny", OUT_OF_SCOPE,
                  "open_ticket", "talk_to_human", "ticket_status", "my_tickets"}


class RouterFlow:
    """Understands free text and hands it to the flow of its intent (or to the knowledge base)."""

    name = "router"

    def __init__(self, nlu: Callable[[], IntentParser], settings: NluSettings, flows: Mapping[str, Flow]) -> None:
        self._nlu = nlu
        self.settings = settings
        self.flows = flows  # the registry this router is part of

    def understand(self, ctx: TurnContext) -> ParseResult:
        """The intent parse of the turn's message (computed once per turn, kept in ``ctx.parse``)."""
        text = ctx.understood_text  # a long paste: its prose and telling lines, not 3,000 characters of log
        if ctx.parse is None or ctx.parse.text != text:
            embedding = ctx.embed() if self.settings.backend == "builtin" else None
            ctx.parse = self._nlu().parse(text, embedding=embedding)
            ctx.parse.entities = relocate(ctx.parse.entities, text, ctx.message.text)
        return ctx.parse

    def parse_other(self, ctx: TurnContext, text: str) -> ParseResult:
        """The parse of some other text (e.g. a form's summary), without touching the turn."""
        embedding = ctx.encode(text) if self.settings.backend == "builtin" and ctx.encode else None
        return self._nlu().parse(text, embedding=embedding)

    def handle_intent(self, ctx: TurnContext) -> Reply:
        nlu = self.settings
        text = ctx.message.text
        parse = self.understand(ctx)
        top = parse.intent
        asked = explicit_request(text)
        if asked is not None:
            return self._finish(ctx, self._ticket_request(ctx, asked[0], asked[1]))
        if detect(text) is not None:
            return self._finish(ctx, self.flows["answer"].handle_intent(ctx))
        if parse.out_of_scope or top.name == OUT_OF_SCOPE or top.confidence < nlu.low_confidence:
            return self._finish(ctx, self.flows["answer"].handle_intent(ctx))
        if not is_action(top.name):
            if flow_for(top.name) == "smalltalk" and top.confidence >= nlu.high_confidence:
                return self._finish(ctx, self._run(ctx, top.name))
            # a knowledge question: the knowledge base decides which article, if any, answers it
            return self._finish(ctx, self.flows["answer"].handle_intent(ctx))
        unsure = not confident(parse, nlu)
        if unsure or (top.name in TICKET_INTENTS and asks_for_information(text)):
            # "who do I call in IT?", or unsure which action if any: an article that answers the message is shown
            # (with the actions, when unsure, offered under it: "a colleague sent me a password in Slack, ok?";
            # a ticket or a person is already offered by the answer's own "Open a ticket")
            answered = self.flows["answer"].handle_intent(ctx)
            if answered.outcome is Outcome.ANSWERED:
                if unsure:
                    answered.buttons += self._choices(ctx, [c for c in self._candidates(parse, top)
                                                            if c.name not in TICKET_INTENTS])
                return self._finish(ctx, answered)
            ctx.top_article_id = ctx.kb_score = None
        if unsure:
            return self._finish(ctx, self._clarify(ctx, self._candidates(parse, top)))
        return self._finish(ctx, self._run(ctx, top.name))

    def handle_action(self, ctx: TurnContext, action: Action) -> Reply:
        text = str(action.value.get("text", ""))
        ctx.message.text = text or ctx.message.text
        if action.action_id == CHOOSE:
            intent = str(action.value.get("intent", ""))
            if flow_for(intent) == "answer":  # an old button offering a topic: the knowledge base decides
                ctx.parse = ParseResult(text=text, intent=IntentScore(OUT_OF_SCOPE, 0.0), out_of_scope=True)
                return self._finish(ctx, self.flows["answer"].handle_intent(ctx))
            ctx.parse = ParseResult(text=text, intent=IntentScore(intent, 1.0),
                                    ranking=[IntentScore(intent, 1.0)])
            return self._finish(ctx, self._run(ctx, intent))
        # "None of these": never an article the employee did not ask for; rephrase, or a ticket.
        ctx.parse = ParseResult(text=text, intent=IntentScore(OUT_OF_SCOPE, 0.0), out_of_scope=True)
        summary = ctx.redact(text)[:200]
        return self._finish(ctx, Reply(text=REPHRASE, outcome=Outcome.DECLINED, buttons=[
            Button("Open a ticket", "ticket.open", {"summary": summary})]))

    def handle_followup(self, ctx: TurnContext) -> Reply | None:
        return None

    # ------------------------------------------------------------------
    def _run(self, ctx: TurnContext, intent: str) -> Reply:
        flow = self.flows.get(flow_for(intent)) or self.flows["answer"]
        return flow.handle_intent(ctx)

    def _ticket_request(self, ctx: TurnContext, kind: str, problem: str) -> Reply:
        """The ticket form for an explicit request, the problem (without the request) as its summary."""
        category = None
        if problem:
            other = self.parse_other(ctx, problem)
            if other.intent.name not in NOT_A_CATEGORY and other.intent.confidence >= self.settings.low_confidence:
                category = other.intent.name
        value: dict[str, str] = {"summary": ctx.redact(problem)[:500]}
        value["category"] = category or "general"
        situation = detect(problem)
        if situation is not None:
            value["urgency"] = situation.urgency
        ticket = self.flows.get("ticket")
        if ticket is None:
            return self.flows["answer"].handle_intent(ctx)
        reply = ticket.handle_action(ctx, Action("ticket.open", value))
        if kind == "human" and reply.outcome is Outcome.COLLECTING:
            reply.text = "I'll pass this to a person in IT. " + reply.text
        return reply

    def _candidates(self, parse: ParseResult, top: IntentScore) -> list[IntentScore]:
        """The actions worth offering when unsure: the likely ones, at most ``MAX_CHOICES`` (else the top one)."""
        floor = self.settings.low_confidence / 2
        return [s for s in parse.ranking if is_action(s.name) and s.confidence >= floor][:MAX_CHOICES] or [top]

    @staticmethod
    def _choices(ctx: TurnContext, candidates: list[IntentScore]) -> list[Button]:
        """One button per candidate action, carrying the message it was offered for."""
        text = ctx.redact(ctx.message.text)  # button values travel through Slack: never a typed secret
        return [Button(label=label_for(c.name), action_id=CHOOSE, value={"intent": c.name, "text": text})
                for c in candidates]

    def _clarify(self, ctx: TurnContext, candidates: list[IntentScore]) -> Reply:
        buttons = self._choices(ctx, candidates)
        buttons.append(Button(label="None of these", action_id=NONE_OF_THESE,
                              value={"text": ctx.redact(ctx.message.text)}))
        lead = "Did you mean this?" if len(candidates) == 1 else "Did you mean one of these?"
        return Reply(text=f"I'm not sure I understood. {lead}",
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
