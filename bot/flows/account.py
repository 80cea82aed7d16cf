"""Account self-service in chat: "I'm locked out" and "I forgot my password".

Safe by construction:
* the account is found from the message's *verified* e-mail only (``ctx.message.email``);
  nothing the user types and no button value ever names an account;
* every reply about the account is private (ephemeral / DM);
* "not found", "protected" and "disabled" get one identical message after the same
  padded delay, and a ticket for IT that points at the audit entry (not the reason);
* a refusal, a rate limit or an unreachable directory always ends in a ticket.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from bot.errors import ConfigError, DirectoryError, HelpdeskError, NotPermittedError, RateLimitedError
from bot.flows.base import TurnContext
from bot.messages import Action, Button, Outcome, Reply
from bot.storage.base import utcnow
from integrations.directory import audit
from integrations.directory.models import DirectoryAudit, ResetLink
from integrations.directory.settings import DirectorySettings

if TYPE_CHECKING:
    from integrations.directory.client import LdapDirectory
    from integrations.directory.selfservice import Resolution, SelfService

log = logging.getLogger(__name__)

UNLOCK, RESET = "account_unlock", "password_reset"
CANT_DO_IT = "I can't do this automatically for your account, so it needs a person from IT."
NO_DIRECTORY = "Account self-service isn't set up here, so this needs a person from IT."
UNREACHABLE = "I couldn't reach the company directory just now, so this needs a person from IT."
NO_EMAIL = ("I can only help with your own account, and this channel didn't give me a verified "
            "e-mail address for you, so this needs a person from IT.")
FALLBACK = " Press the button to open a ticket for them."
NO_EMAIL_SUMMARY = "no verified e-mail"
EXPIRED = "That button has expired. What can I help you with?"
# One answer for "not your link" and "no link": a button never tells anyone whose links exist.
NOT_YOUR_LINK = ("That button only works for the person the reset link was sent to, while the link is valid. "
                 "To reset your own password, just ask me.")


class Escalate(Protocol):
    """Hands the employee's request to IT as a ticket (``TicketFlow.escalate``)."""

    def __call__(self, ctx: TurnContext, *, summary: str, details: str, category: str,
                 urgency: str = ..., extra: dict[str, Any] | None = ...) -> Reply:
        """The reply telling the employee the ticket is open or queued; HelpdeskError when it cannot be."""
        ...


class AccountFlow:
    """Intents ``password_reset`` / ``account_unlock``; actions ``account.*``.

    ``directory`` provides the directory client (None: ``kind = "none"``; a ConfigError:
    misconfigured); both mean every account request becomes a ticket through ``escalate``.
    ``public_url`` is where the reset page is served.
    """

    name = "account"

    def __init__(self, settings: DirectorySettings, directory: Callable[[], LdapDirectory | None], *,
                 public_url: str, escalate: Escalate) -> None:
        self.settings = settings
        self.directory = directory
        self.public_url = public_url
        self.escalate = escalate

    # ------------------------------------------------------------------ entry points
    def handle_intent(self, ctx: TurnContext) -> Reply:
        """Offer an unlock or a reset for the requester's own account."""
        started = time.monotonic()
        intent = ctx.parse.intent.name if ctx.parse is not None else RESET
        reply = self._offer(ctx, RESET if intent == RESET else UNLOCK)
        self._pad(started)
        return reply

    def handle_followup(self, ctx: TurnContext) -> Reply | None:
        """The account flow is never multi-turn."""
        return None

    def handle_action(self, ctx: TurnContext, action: Action) -> Reply:
        """A press of one of the flow's buttons."""
        started = time.monotonic()
        reply = self._dispatch_action(ctx, action)
        self._pad(started)  # every account turn takes the same time, whatever the outcome
        return reply

    def _dispatch_action(self, ctx: TurnContext, action: Action) -> Reply:
        verb = action.action_id.split(".", 1)[1] if "." in action.action_id else ""
        if verb == "cancel":
            return _private("OK, I've left your account as it is.", Outcome.INFO)
        if verb == "check":
            return self._offer(ctx, UNLOCK)
        if verb == "reset_start":
            return self._offer(ctx, RESET)
        if verb == "open_reset":
            return self._open_reset(ctx, action)
        if verb in ("reset_link", "reset_temporary") and verb != self._reset_verb():
            return _private(EXPIRED, Outcome.ERROR)  # an old button from before reset_mode changed
        if verb in ("unlock", "reset_link", "reset_temporary"):
            return self._act(ctx, verb)
        return _private(EXPIRED, Outcome.ERROR)

    # ------------------------------------------------------------------ steps
    def _offer(self, ctx: TurnContext, what: str) -> Reply:
        """Look the requester's account up and offer the action (no change yet)."""
        label = "Password reset" if what == RESET else "Account unlock"
        service = self._service(ctx)
        if service is None:
            return self._escalate(ctx, NO_DIRECTORY, f"{label} request (no directory configured)",
                             "Directory self-service is not configured (directory.kind = none).", what)
        try:
            res = service.resolve(ctx.session, actor=ctx.message.user_key, email=ctx.message.email,
                                  action=f"lookup_{'reset' if what == RESET else 'unlock'}")
        except DirectoryError as exc:
            return self._unreachable(ctx, exc, label, what)
        except HelpdeskError as exc:  # e.g. the directory refused the lookup itself
            log.warning("account lookup refused: %s", ctx.redact(exc.detail or exc.user_message))
            return self._escalate(ctx, CANT_DO_IT, f"{label} request needs IT",
                             "The directory refused the bot's lookup (see `helpdesk audit`).", what)
        if not res.ok:
            return self._refused(ctx, res, label, what)
        account = res.account
        assert account is not None
        if what == UNLOCK:
            if account.locked:
                return _private(
                    f"Your account *{account.login}* is locked. Shall I unlock it? "
                    "This doesn't change your password.", Outcome.ACCOUNT_ACTION,
                    buttons=[Button("Unlock my account", "account.unlock", {}, style="primary"),
                             Button("Cancel", "account.cancel", {})])
            return _private(
                f"Your account *{account.login}* isn't locked, so there's nothing to unlock. "
                "If you've forgotten your password, I can help you reset it.", Outcome.ACCOUNT_ACTION,
                buttons=[Button("Reset my password", "account.reset_start", {})])
        minutes = self.settings.reset_link_minutes
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
        """A confirmed action: re-resolve from the verified e-mail, then do it."""
        what = UNLOCK if verb == "unlock" else RESET
        label = "Account unlock" if what == UNLOCK else "Password reset"
        service = self._service(ctx)
        if service is None:
            return self._escalate(ctx, NO_DIRECTORY, f"{label} request (no directory configured)",
                             "Directory self-service is not configured (directory.kind = none).", what)
        actor = ctx.message.user_key
        try:
            res = service.resolve(ctx.session, actor=actor, email=ctx.message.email, action=f"confirm_{verb}")
            if not res.ok:
                return self._refused(ctx, res, label, what)
            if verb == "unlock":
                changed = service.unlock(ctx.session, actor=actor, res=res)
                if not changed:
                    return _private("Your account isn't locked (any more), so I didn't change anything. "
                                    "Try signing in again.", Outcome.ACCOUNT_ACTION)
                return _private("Done: your account is unlocked, and your password is unchanged. "
                                "If you don't remember it, I can help you reset it.", Outcome.ACCOUNT_ACTION,
                                buttons=[Button("Reset my password", "account.reset_start", {})])
            if verb == "reset_link":
                url, _link = service.issue_link(ctx.session, actor=actor, res=res)
                minutes = self.settings.reset_link_minutes
                reply = _private(
                    f"Here is your one-time link. It works once, for {minutes} minutes, and only for you. "
                    "Don't forward it.", Outcome.ACCOUNT_ACTION,
                    # No link id in the value: a button value is untrusted and names nothing.
                    buttons=[Button("Choose a new password", "account.open_reset", {},
                                    style="primary", url=url)])
                reply.sensitive = True  # the URL is a live credential: never stored or queued
                return reply
            temp = service.temporary_password(ctx.session, actor=actor, res=res)
            if temp.flag_failed:
                return self._partial_temporary(ctx, temp.password, temp.flag_failed, label, what)
            reply = _private(
                "Done. Your account is unlocked and has a temporary password, shown only this once "
                "(I don't keep it). You'll be asked to choose a new one when you sign in.\n"
                f"Temporary password: `{temp.password}`", Outcome.ACCOUNT_ACTION)
            reply.sensitive = True
            return reply
        except RateLimitedError as exc:
            return self._escalate(ctx, exc.user_message, f"{label}: daily self-service limit reached",
                             f"The employee reached the daily self-service limit ({label.lower()}).", what)
        except DirectoryError as exc:
            return self._unreachable(ctx, exc, label, what)
        except NotPermittedError as exc:
            log.warning("account action refused by the directory: %s", ctx.redact(exc.detail or ""))
            return self._escalate(ctx, CANT_DO_IT, f"{label} request needs IT",
                             "The directory refused the bot's change (see `helpdesk audit`).", what)
        except HelpdeskError as exc:  # e.g. the directory's policy refused a generated password (audited)
            log.warning("account action failed: %s", ctx.redact(exc.detail or type(exc).__name__))
            return self._escalate(ctx, CANT_DO_IT, f"{label} request needs IT",
                             f"The directory did not accept the bot's {label.lower()} "
                             "(see `helpdesk audit`).", what)

    def _partial_temporary(self, ctx: TurnContext, password: str, step: str, label: str, what: str) -> Reply:
        """The temporary password IS set but a follow-up step failed: show it, and tell IT."""
        reply = self._escalate(
            ctx, "Your password was changed to the temporary password below, but I couldn't finish the "
            f"change ({step}), so I've asked IT to complete it.",
            f"{label}: temporary password set, follow-up failed",
            f"The bot set a temporary password for {ctx.message.email or 'the employee'}, but {step} failed "
            "afterwards. The employee has the temporary password; please finish the change by hand "
            "(see `helpdesk audit --action temporary_password`).", what)
        reply.text += f"\nTemporary password: `{password}`"
        reply.sensitive = True
        return reply

    def _open_reset(self, ctx: TurnContext, action: Action) -> Reply:
        """Someone pressed a reset-link button (Slack also reports presses of URL buttons).

        The value names nothing (it is untrusted): only the presser's own live link counts.
        Someone else's press is refused with one message and cancels nothing.
        """
        own = ctx.session.scalars(select(ResetLink.id).where(
            ResetLink.user_key == ctx.message.user_key, ResetLink.used_at.is_(None),
            ResetLink.revoked_reason.is_(None), ResetLink.expires_at > utcnow()).limit(1)).first()
        if own is None:
            audit.record(ctx.session, actor=ctx.message.user_key, action="reset_link", result="refused",
                         email=None, detail="reset-link button pressed by someone without a live link of their own")
            return _private(NOT_YOUR_LINK, Outcome.ERROR)
        return _private("The reset page is open in your browser. The link works once.", Outcome.INFO)

    # ------------------------------------------------------------------ endings
    def _refused(self, ctx: TurnContext, res: Resolution, label: str, what: str) -> Reply:
        from integrations.directory.selfservice import NO_EMAIL as NO_EMAIL_CODE

        ref = _last_audit_id(ctx)
        if res.refusal == NO_EMAIL_CODE:
            return self._escalate(ctx, NO_EMAIL, f"{label} request ({NO_EMAIL_SUMMARY})",
                             f"The request came from {ctx.message.channel} without a verified e-mail.", what)
        # One message for not found / protected / disabled: the reason is only in the audit log.
        return self._escalate(ctx, CANT_DO_IT, f"{label} request needs IT",
                         f"The bot could not handle this account request automatically for {res.email}. "
                         f"The reason is in the directory audit log, entry #{ref} (`helpdesk audit`).", what)

    def _unreachable(self, ctx: TurnContext, exc: HelpdeskError, label: str, what: str) -> Reply:
        log.warning("directory unreachable during %s: %s", label.lower(), ctx.redact(exc.detail or ""))
        audit.record(ctx.session, actor=ctx.message.user_key, action=label.lower().replace(" ", "_"),
                     result="unreachable", email=ctx.message.email, detail=exc.detail)
        return self._escalate(ctx, UNREACHABLE, f"{label} request (directory unreachable)",
                         f"The directory did not answer while the bot handled this {label.lower()} "
                         f"request for {ctx.message.email or 'an employee'}.", what, urgency="high")


    # ------------------------------------------------------------------ collaborators
    def _service(self, ctx: TurnContext) -> SelfService | None:
        from integrations.directory.selfservice import SelfService

        try:
            directory = self.directory()
        except ConfigError as exc:  # misconfigured: tell IT through a ticket rather than fail the turn
            log.error("directory misconfigured, account requests become tickets: %s", exc.user_message)
            return None
        if directory is None:
            return None
        return SelfService(self.settings, directory, public_url=self.public_url)

    def _reset_verb(self) -> str:
        """The reset button the configured ``directory.reset_mode`` offers."""
        return "reset_temporary" if self.settings.reset_mode == "temporary" else "reset_link"

    def _pad(self, started: float) -> None:
        """Make every account turn take the same time, whether or not an account exists."""
        remaining = self.settings.uniform_reply_seconds - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)

    def _escalate(self, ctx: TurnContext, text: str, summary: str, details: str, what: str,
                  urgency: str = "normal") -> Reply:
        """Hand the request to IT (a ticket) with a clear message; never a dead end.

        When the ticket cannot be opened either, the employee gets a button to open one.
        """
        extra = {"source": "account-self-service", "request": what}
        try:
            reply = self.escalate(ctx, summary=summary, details=details, category="account",
                                  urgency=urgency, extra=extra)
        except HelpdeskError as exc:
            log.warning("escalation failed: %s", ctx.redact(exc.detail or exc.user_message))
        else:
            reply.text = f"{text}\n{reply.text}" if reply.text else text
            reply.private = True
            return reply
        return Reply(text=text + FALLBACK, outcome=Outcome.DECLINED, private=True,
                     buttons=[Button("Open a ticket", "ticket.open", {"summary": summary})])


# ---------------------------------------------------------------------- helpers
def _private(text: str, outcome: Outcome, buttons: list[Button] | None = None) -> Reply:
    return Reply(text=text, outcome=outcome, private=True, buttons=buttons or [])


def _last_audit_id(ctx: TurnContext) -> int | None:
    ctx.session.flush()
    return ctx.session.scalars(select(DirectoryAudit.id).where(DirectoryAudit.actor == ctx.message.user_key)
                               .order_by(DirectoryAudit.id.desc()).limit(1)).first()
