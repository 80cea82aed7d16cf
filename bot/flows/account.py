"""Account self-service in chat: "I'm locked out" and "I forgot my password".

Safe by construction:
* the account is found from the message's *verified* e-mail only (``ctx.message.email``);
  nothing the user types and no button value ever names an account; a request about
  someone else's account is answered plainly: the bot acts only on the asker's own;
* nothing happens without the employee's explicit confirmation in this conversation: the
  offer is remembered in the conversation state, and an Unlock / reset button is honoured
  only while its offer is open (a stale, forged or replayed press just shows the offer again);
  a ticket is opened only when the employee presses "Open a ticket" or says so;
* every reply about the account is private (ephemeral / DM);
* "not found", "protected" and "disabled" get one identical message after the same
  uniform delay (``ctx.reply_not_before``: the engine waits after committing, so no
  transaction stays open); the ticket, if asked for, tells IT the reason;
* directory calls happen before the step writes anything (audit and rate rows are
  written at the end), so a slow directory never holds the database's write lock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from bot.errors import ConfigError, DirectoryError, HelpdeskError, NotPermittedError, RateLimitedError
from bot.flows import account_state as state
from bot.flows import account_words as w
from bot.flows.base import TurnContext
from bot.messages import Action, Button, Outcome, Reply
from integrations.directory import audit
from integrations.directory.settings import DirectorySettings

if TYPE_CHECKING:
    from integrations.directory.client import LdapDirectory
    from integrations.directory.selfservice import Resolution, SelfService

log = logging.getLogger(__name__)

UNLOCK, RESET = "account_unlock", "password_reset"
HELP_QUERY = {RESET: "I forgot my password", UNLOCK: "my account is locked"}

class Escalate(Protocol):
    """Hands the employee's request to IT as a ticket (``TicketFlow.escalate``)."""

    def __call__(self, ctx: TurnContext, *, summary: str, details: str, category: str,
                 urgency: str = ..., extra: dict[str, Any] | None = ...) -> Reply:
        """The reply telling the employee the ticket is open or queued; HelpdeskError when it cannot be."""
        ...


SelfHelp = Callable[[TurnContext], Reply]  # the knowledge base's answer to the turn's message


class AccountFlow:
    """Intents ``password_reset`` / ``account_unlock``; actions ``account.*``.

    ``directory`` provides the directory client (None: ``kind = "none"``; a ConfigError:
    misconfigured). ``public_url`` is where the reset page is served. ``self_help``
    answers from the knowledge base (the password article's self-service steps) when
    there is no directory to act on.
    """

    name = "account"

    def __init__(self, settings: DirectorySettings, directory: Callable[[], LdapDirectory | None], *,
                 public_url: str, escalate: Escalate, self_help: SelfHelp | None = None) -> None:
        self.settings = settings
        self.directory = directory
        self.public_url = public_url
        self.escalate = escalate
        self.self_help = self_help

    # ------------------------------------------------------------------ entry points
    def handle_intent(self, ctx: TurnContext) -> Reply:
        """Offer an unlock or a reset for the requester's own account (nothing changes yet)."""
        self._uniform(ctx)
        intent = ctx.parse.intent.name if ctx.parse is not None else RESET
        what = RESET if intent == RESET else UNLOCK
        other = w.someone_else(ctx.message.text, ctx.message.email)
        if other is not None:
            return self._only_yours(ctx, what, other)
        return self._offer(ctx, what)

    def handle_followup(self, ctx: TurnContext) -> Reply | None:
        """A typed answer to the open offer: "yes" confirms it, "open a ticket" accepts a ticket offer.

        Anything else goes back to the router (and the offer lapses).
        """
        text = ctx.message.text
        if ctx.slots.get("ticket") and w.asks_for_ticket(text):
            self._uniform(ctx)
            return self._open_ticket(ctx)
        offer = ctx.slots.get("offer")
        if isinstance(offer, str) and w.affirms(text) and self._offered(ctx, offer):
            self._uniform(ctx)
            return self._act(ctx, offer)
        return None

    def handle_action(self, ctx: TurnContext, action: Action) -> Reply:
        """A press of one of the flow's buttons."""
        self._uniform(ctx)  # every account turn takes the same time, whatever the outcome
        verb = action.action_id.split(".", 1)[1] if "." in action.action_id else ""
        if verb == "cancel":
            if ctx.state.active_flow == self.name:
                ctx.finish()
            return _private("OK, I've left your account as it is.", Outcome.INFO)
        if verb == "ticket":
            return self._open_ticket(ctx)
        if verb == "check":
            return self._offer(ctx, UNLOCK)
        if verb == "reset_start":
            return self._offer(ctx, RESET)
        if verb == "open_reset":
            return state.open_reset(ctx)
        if verb in ("reset_link", "reset_temporary") and verb != self._reset_verb():
            return _private(w.EXPIRED, Outcome.ERROR)  # an old button from before reset_mode changed
        if verb in ("unlock", "reset_link", "reset_temporary"):
            if not self._offered(ctx, verb):  # no open offer in this conversation: ask first
                return self._offer(ctx, UNLOCK if verb == "unlock" else RESET)
            return self._act(ctx, verb)
        return _private(w.EXPIRED, Outcome.ERROR)

    # ------------------------------------------------------------------ steps
    def _offer(self, ctx: TurnContext, what: str) -> Reply:
        """Look the requester's account up and offer the action (no change yet)."""
        label = _label(what)
        service = self._service(ctx)
        if service is None:
            return self._without_directory(ctx, what)
        try:
            with ctx.session.no_autoflush:  # no write before the directory has answered
                res = service.resolve(ctx.session, actor=ctx.message.user_key, email=ctx.message.email,
                                      action=f"lookup_{'reset' if what == RESET else 'unlock'}")
        except DirectoryError as exc:
            return self._unreachable(ctx, exc, what, keep_offer=None)
        except HelpdeskError as exc:  # e.g. the directory refused the lookup itself
            log.warning("account lookup refused: %s", ctx.redact(exc.detail or exc.user_message))
            return self._hand_over(ctx, w.CANT_DO_IT, what, summary=f"{label} request needs IT",
                                   reason="the directory refused the bot's lookup (see `helpdesk audit`).")
        if not res.ok:
            return self._refused(ctx, res, what)
        account = res.account
        assert account is not None
        if what == UNLOCK:
            if account.locked:
                self._remember(ctx, what, offer="unlock")
                return _private(
                    f"Your account *{account.login}* is locked. Shall I unlock it? "
                    "This doesn't change your password.", Outcome.ACCOUNT_ACTION,
                    buttons=[Button("Unlock my account", "account.unlock", {}, style="primary"),
                             Button("Cancel", "account.cancel", {})])
            self._remember(ctx, what, offer=None)
            return _private(
                f"Your account *{account.login}* isn't locked, so there's nothing to unlock. "
                "If you've forgotten your password, I can help you reset it.", Outcome.ACCOUNT_ACTION,
                buttons=[Button("Reset my password", "account.reset_start", {})])
        minutes = self.settings.reset_link_minutes
        self._remember(ctx, what, offer=self._reset_verb())
        if self.settings.reset_mode == "temporary":
            return _private(
                f"I can set a temporary password for your account *{account.login}*. I'll show it only "
                "to you, once, and you'll have to change it the next time you sign in. "
                "It also unlocks the account.", Outcome.ACCOUNT_ACTION,
                buttons=[Button("Set a temporary password", "account.reset_temporary", {}, style="primary"),
                         Button("Cancel", "account.cancel", {})])
        return _private(
            f"I can give you a one-time link to choose a new password for *{account.login}*. "
            f"It works once, for {minutes} minutes, and only for you; it also unlocks the account. "
            "Never share it — IT will never ask for it.", Outcome.ACCOUNT_ACTION,
            buttons=[Button("Send me a reset link", "account.reset_link", {}, style="primary"),
                     Button("Cancel", "account.cancel", {})])

    def _act(self, ctx: TurnContext, verb: str) -> Reply:
        """A confirmed action: re-resolve from the verified e-mail, then do it (directory first, writes last)."""
        what = UNLOCK if verb == "unlock" else RESET
        label = _label(what)
        service = self._service(ctx)
        if service is None:
            return self._without_directory(ctx, what)
        actor = ctx.message.user_key
        try:
            with ctx.session.no_autoflush:
                res = service.resolve(ctx.session, actor=actor, email=ctx.message.email, action=f"confirm_{verb}")
                if not res.ok:
                    return self._refused(ctx, res, what)
                if verb == "unlock":
                    changed = service.unlock(ctx.session, actor=actor, res=res)
                elif verb == "reset_link":
                    url, _link = service.issue_link(ctx.session, actor=actor, res=res)
                else:
                    temp = service.temporary_password(ctx.session, actor=actor, res=res)
        except RateLimitedError as exc:
            return self._hand_over(ctx, exc.user_message, what, summary=f"{label}: daily self-service limit reached",
                                   reason=f"the employee reached the daily self-service limit ({label.lower()}); "
                                   "verify the employee before helping by hand.", offer_text=False)
        except DirectoryError as exc:
            return self._unreachable(ctx, exc, what, keep_offer=verb)
        except HelpdeskError as exc:  # refused by the directory, or its policy refused a generated password
            log.warning("account action failed: %s", ctx.redact(exc.detail or type(exc).__name__))
            why = "change" if isinstance(exc, NotPermittedError) else label.lower()
            return self._hand_over(ctx, w.CANT_DO_IT, what, summary=f"{label} request needs IT",
                                   reason=f"the directory did not accept the bot's {why} "
                                   "(see `helpdesk audit`); do it by hand after verifying the employee.")
        ctx.finish()  # one confirmation, one action
        if verb == "unlock":
            if not changed:
                return _private("Your account isn't locked (any more), so I didn't change anything. "
                                "Try signing in again.", Outcome.ACCOUNT_ACTION)
            return _private("Done: your account is unlocked, and your password is unchanged. "
                            "If you don't remember it, I can help you reset it.", Outcome.ACCOUNT_ACTION,
                            buttons=[Button("Reset my password", "account.reset_start", {})])
        if verb == "reset_link":
            minutes = self.settings.reset_link_minutes
            reply = _private(
                f"Here is your one-time link. It works once, for {minutes} minutes, and only for you. "
                "Don't forward it.", Outcome.ACCOUNT_ACTION,
                # No link id in the value: a button value is untrusted and names nothing.
                buttons=[Button("Choose a new password", "account.open_reset", {}, style="primary", url=url)])
            reply.sensitive = True  # the URL is a live credential: never stored or queued
            return reply
        if temp.flag_failed:
            reply = self._hand_over(
                ctx, "Your password was changed to the temporary password below, but I couldn't finish the "
                f"change ({temp.flag_failed}). Change it yourself right after signing in, or let IT finish it.",
                what, summary=f"{label}: temporary password set, follow-up failed", offer_text=False,
                reason=f"the bot set a temporary password, but {temp.flag_failed} failed afterwards; the employee "
                "has the temporary password. Finish the change by hand "
                "(see `helpdesk audit --action temporary_password`).")
            reply.text += f"\nTemporary password: `{temp.password}`"
            reply.sensitive = True
            return reply
        reply = _private(
            "Done. Your account is unlocked and has a temporary password, shown only this once "
            "(I don't keep it). You'll be asked to choose a new one when you sign in.\n"
            f"Temporary password: `{temp.password}`", Outcome.ACCOUNT_ACTION)
        reply.sensitive = True
        return reply

    # ------------------------------------------------------------------ no action possible: say so, offer IT
    def _only_yours(self, ctx: TurnContext, what: str, other: str) -> Reply:
        """A request about someone else's account: say plainly what the bot will not do."""
        own = ""
        service = self._service(ctx)
        if service is not None:
            try:
                with ctx.session.no_autoflush:
                    res = service.resolve(ctx.session, actor=ctx.message.user_key, email=ctx.message.email,
                                          action="lookup_other")
                if res.ok and res.account is not None:
                    own = f" (*{res.account.login}*)"
            except HelpdeskError as exc:
                log.info("own-account lookup skipped: %s", ctx.redact(exc.detail or type(exc).__name__))
        label = _label(what)
        reply = self._hand_over(
            ctx, w.ONLY_YOURS.format(own=own), what, summary=f"{label} for someone else: {other}"[:200],
            subject=other, reason=f"the employee asked the bot to act on someone else's account ({other}). The "
            "bot only acts on the requester's own account: check who is asking and that the account's owner "
            "needs this before acting.", ticket_offer=" Shall I open a ticket for IT about it?")
        reply.outcome = Outcome.DECLINED
        mine = ("Unlock my own account", "account.check") if what == UNLOCK else \
            ("Reset my own password", "account.reset_start")
        reply.buttons.append(Button(mine[0], mine[1], {}))
        return reply

    def _refused(self, ctx: TurnContext, res: Resolution, what: str) -> Reply:
        from integrations.directory.selfservice import NO_EMAIL as NO_EMAIL_CODE

        label = _label(what)
        reason = w.reason_for_it(res.refusal, res.detail, email=res.email, channel=ctx.message.channel,
                                 action="unlock" if what == UNLOCK else "reset")
        if res.refusal == NO_EMAIL_CODE:
            return self._hand_over(ctx, w.NO_EMAIL, what, summary=f"{label} request ({w.NO_EMAIL_SUMMARY})",
                                   reason=reason)
        # One message for not found / protected / disabled: the reason goes only to IT.
        return self._hand_over(ctx, w.CANT_DO_IT, what, summary=f"{label} request needs IT", reason=reason)

    def _unreachable(self, ctx: TurnContext, exc: HelpdeskError, what: str, *, keep_offer: str | None) -> Reply:
        """The directory went away: say so plainly, keep the request (a ticket with their words on request)."""
        label = _label(what)
        log.warning("directory unreachable during %s: %s", label.lower(), ctx.redact(exc.detail or ""))
        audit.record(ctx.session, actor=ctx.message.user_key, action=label.lower().replace(" ", "_"),
                     result="unreachable", email=ctx.message.email, detail=exc.detail)
        reply = self._hand_over(
            ctx, w.UNREACHABLE + w.KEPT, what, summary=f"{label} request (directory unreachable)", urgency="high",
            offer=keep_offer, reason="the directory did not answer while the bot handled this request; "
            f"{label.lower()} by hand, or ask the employee to try the bot again later.",
            ticket_offer=" I can open a ticket for IT with what you wrote, or you can try again in a few minutes.")
        if keep_offer is not None:  # the employee confirmed already: the same button may simply be retried
            reply.buttons.append(Button("Try again", f"account.{keep_offer}", {}))
        return reply

    def _without_directory(self, ctx: TurnContext, what: str) -> Reply:
        """No directory to act on: the article's self-service steps, and a ticket only if asked for."""
        label = _label(what)
        configured = self.settings.configured
        text = w.NO_DIRECTORY if not configured else w.UNAVAILABLE
        reply = self._hand_over(ctx, text, what, summary=f"{label} request", reason=None if not configured else
                                "the bot's account self-service is unavailable (see the bot's log); "
                                "handle the request by hand after verifying the employee.")
        help_reply = self._help(ctx, what) if not configured else None
        if help_reply is not None:
            reply.text = f"{text} You can do it yourself, though:\n\n{help_reply.text}\n\n" \
                         "If that doesn't work, I can open a ticket for IT."
            reply.quote, reply.sources, reply.related = help_reply.quote, help_reply.sources, help_reply.related
            reply.buttons = [b for b in help_reply.buttons if b.action_id != "ticket.open"] + reply.buttons
        return reply

    def _help(self, ctx: TurnContext, what: str) -> Reply | None:
        """The knowledge base's answer about self-service (None: nothing to offer)."""
        if self.self_help is None:
            return None
        if not ctx.message.text.strip():  # a button press: ask the article the usual question
            ctx.message.text = HELP_QUERY[what]
        try:
            answer = self.self_help(ctx)
        except HelpdeskError as exc:
            log.warning("no self-service article: %s", exc.detail or exc.user_message)
            return None
        return answer if answer.outcome is Outcome.ANSWERED else None

    def _hand_over(self, ctx: TurnContext, text: str, what: str, *, summary: str, reason: str | None,
                   urgency: str = "normal", subject: str | None = None, offer: str | None = None,
                   ticket_offer: str = w.OFFER_TICKET, offer_text: bool = True) -> Reply:
        """Tell the employee why IT is needed and *offer* a ticket; it is opened only when they accept."""
        pending = {"summary": summary, "reason": reason, "urgency": urgency, "subject": subject}
        self._remember(ctx, what, offer=offer, ticket=pending)
        body = text + (ticket_offer if offer_text else " I can open a ticket for IT if you like.")
        return Reply(text=body, outcome=Outcome.DECLINED, private=True,
                     buttons=[Button(w.TICKET_LABEL, "account.ticket", {}, style="primary")])

    def _open_ticket(self, ctx: TurnContext) -> Reply:
        """The employee accepted the ticket offer: open it with their words and what IT needs to know."""
        slots = ctx.slots
        pending = slots.get("ticket") if state.fresh(ctx, self.name) else None
        if not isinstance(pending, dict):
            ctx.finish()
            return _private(w.OFFER_GONE, Outcome.INFO)
        what = str(slots.get("what") or RESET)
        summary = str(pending.get("summary") or f"{_label(what)} request")
        words = str(slots.get("words") or f"{_label(what)} requested in chat (by a button; nothing typed).")
        extra: dict[str, Any] = {"source": "account-self-service", "request": what}
        if pending.get("subject"):
            extra["about"] = str(pending["subject"])
        if pending.get("reason"):
            extra["what IT needs to know"] = str(pending["reason"])
        try:
            reply = self.escalate(ctx, summary=summary, details=words, category="account",
                                  urgency=str(pending.get("urgency") or "normal"), extra=extra)
        except HelpdeskError as exc:
            log.warning("escalation failed: %s", ctx.redact(exc.detail or exc.user_message))
            return Reply(text="I couldn't open the ticket just now." + w.FALLBACK, outcome=Outcome.DECLINED,
                         private=True, buttons=[Button(w.TICKET_LABEL, "ticket.open", {"summary": summary})])
        if reply.outcome is Outcome.ESCALATED:
            ctx.finish()
        reply.private = True
        return reply

    # ------------------------------------------------------------------ conversation state
    def _remember(self, ctx: TurnContext, what: str, *, offer: str | None,
                  ticket: dict[str, Any] | None = None) -> None:
        state.remember(ctx, self.name, what, offer=offer, ticket=ticket)

    def _offered(self, ctx: TurnContext, verb: str) -> bool:
        """Whether this conversation has an open offer for ``verb`` (the employee saw its button)."""
        return state.fresh(ctx, self.name) and ctx.slots.get("offer") == verb

    # ------------------------------------------------------------------ collaborators
    def _service(self, ctx: TurnContext) -> SelfService | None:
        from integrations.directory.selfservice import SelfService

        try:
            directory = self.directory()
        except ConfigError as exc:  # misconfigured: say so to IT in the log, and offer a ticket
            log.error("directory misconfigured, account requests need IT: %s", exc.user_message)
            return None
        if directory is None:
            return None
        return SelfService(self.settings, directory, public_url=self.public_url)

    def _reset_verb(self) -> str:
        """The reset button the configured ``directory.reset_mode`` offers."""
        return "reset_temporary" if self.settings.reset_mode == "temporary" else "reset_link"

    def _uniform(self, ctx: TurnContext) -> None:
        """Every account turn answers after the same delay; the engine waits after committing."""
        ctx.reply_not_before = time.monotonic() + self.settings.uniform_reply_seconds


# ---------------------------------------------------------------------- helpers
def _label(what: str) -> str:
    return "Password reset" if what == RESET else "Account unlock"


def _private(text: str, outcome: Outcome, buttons: list[Button] | None = None) -> Reply:
    return Reply(text=text, outcome=outcome, private=True, buttons=buttons or [])
