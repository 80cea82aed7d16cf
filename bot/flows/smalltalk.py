"""Greetings, thanks, goodbyes and "what can you do?"."""

from __future__ import annotations

from bot.flows.base import TurnContext
from bot.messages import Action, Button, Outcome, Reply

CAPABILITIES = (
    "I'm the IT helpdesk assistant. I can:\n"
    "• answer questions from the IT knowledge base (VPN, Wi-Fi, MFA, e-mail, printing, policies…) "
    "and link the article\n"
    "• unlock your account or help you reset your password\n"
    "• open a ticket for IT staff, and tell you the status of your tickets (e.g. \"status of IT-123\")\n"
    "Just ask in your own words."
)


class SmalltalkFlow:
    """Greetings, thanks, goodbyes and what the bot can do."""

    name = "smalltalk"

    def handle_intent(self, ctx: TurnContext) -> Reply:
        intent = ctx.parse.intent.name if ctx.parse else "greet"
        name = (ctx.message.display_name or "").split(" ")[0]
        hello = f"Hi {name}!" if name else "Hi!"
        if intent == "greet":
            return Reply(text=f"{hello} I'm the IT helpdesk assistant. What can I help you with?",
                         outcome=Outcome.SMALLTALK,
                         buttons=[Button("What can you do?", "smalltalk.capabilities")])
        if intent == "thanks":
            return Reply(text="You're welcome! Anything else I can help with?", outcome=Outcome.SMALLTALK)
        if intent == "goodbye":
            return Reply(text="Bye! Message me any time you need IT help.", outcome=Outcome.SMALLTALK)
        if intent in ("affirm", "deny"):
            return Reply(text="OK. What can I help you with?", outcome=Outcome.SMALLTALK)
        return Reply(text=CAPABILITIES, outcome=Outcome.INFO,
                     buttons=[Button("Open a ticket", "ticket.open", {"summary": ""})])

    def handle_action(self, ctx: TurnContext, action: Action) -> Reply:
        return Reply(text=CAPABILITIES, outcome=Outcome.INFO, intent="bot_capabilities",
                     buttons=[Button("Open a ticket", "ticket.open", {"summary": ""})])

    def handle_followup(self, ctx: TurnContext) -> Reply | None:
        return None
