"""Self-service rules on top of a directory client: whose account, allowed or not, limits, audit.

Used by the chat flow (bot/flows/account.py) and the reset page (bot/web/reset.py). The
account is always resolved from the *verified* e-mail of the requester; every decision
is audited; passwords are passed straight to the directory and never stored or logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.errors import DirectoryError, HelpdeskError, NotPermittedError, RateLimitedError
from bot.storage.base import utcnow
from integrations.directory import audit, tokens
from integrations.directory.client import (
    Account,
    LdapDirectory,
    PasswordRejected,
    PasswordSetFlagFailed,
    normalise_email,
)
from integrations.directory.models import ResetLink
from integrations.directory.policy import PasswordRules, check_password, generate_temporary
from integrations.directory.settings import DirectorySettings

log = logging.getLogger(__name__)
DAY = dt.timedelta(days=1)

# Why the bot will not act, as recorded in the audit log (the employee sees one message for all).
NOT_FOUND, PROTECTED, DISABLED, NO_EMAIL = "not_found", "protected", "disabled", "no_email"


@dataclass
class Resolution:
    """The requester's own account, or the reason the bot must hand over to IT."""

    email: str | None
    account: Account | None = None
    refusal: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.account is not None and self.refusal is None


@dataclass
class ResetOutcome:
    """What the directory said to a reset-page submission (recorded afterwards by ``record_reset``)."""

    problems: list[str] = field(default_factory=list)
    refused: bool = False  # the account is no longer eligible (changed, disabled, protected)
    partial: PasswordSetFlagFailed | None = None  # the password IS set, a follow-up step failed
    error: Exception | None = None


@dataclass
class TemporaryPassword:
    """A temporary password that is now set; ``flag_failed`` names a follow-up step that failed."""

    password: str
    flag_failed: str | None = None


def _why(exc: Exception) -> str:
    return getattr(exc, "detail", None) or type(exc).__name__


def _safe(exc: Exception) -> HelpdeskError:
    """The error to raise after auditing: HelpdeskErrors as they are, anything else as DirectoryError.

    The flow must end the turn with a reply (not an exception), or the turn's rollback
    would erase the audit row and the used quota.
    """
    if isinstance(exc, HelpdeskError):
        return exc
    return DirectoryError(detail=f"unexpected {type(exc).__name__} from the directory")


class SelfService:
    """One request's view of the rules (cheap to build: once per turn or page request).

    ``public_url`` is where the bot's web pages are served (``server.public_url``): reset
    links point there.
    """

    def __init__(self, settings: DirectorySettings, directory: LdapDirectory, *, public_url: str) -> None:
        self.cfg = settings
        self.public_url = public_url
        self.directory = directory
        self.rules = PasswordRules.from_settings(self.cfg)

    # ------------------------------------------------------------------ lookup
    def resolve(self, session: Session, *, actor: str, email: str | None, action: str = "lookup") -> Resolution:
        """Find the account of this verified e-mail and decide whether the bot may touch it."""
        address = normalise_email(email)
        if address is None:
            res = Resolution(email=None, refusal=NO_EMAIL, detail="no verified e-mail on the message")
        else:
            account = self.directory.find_by_email(address)
            if account is None:
                res = Resolution(email=address, refusal=NOT_FOUND, detail="no single account has this e-mail")
            elif account.disabled:
                res = Resolution(email=address, account=account, refusal=DISABLED, detail="account is disabled")
            else:
                reason = self.directory.protection_reason(account)
                res = Resolution(email=address, account=account, refusal=PROTECTED if reason else None,
                                 detail=reason or "")
        audit.record(session, actor=actor, action=action, result=res.refusal or "ok", email=res.email,
                     account=res.account.dn if res.account else None, detail=res.detail or None)
        return res

    # ------------------------------------------------------------------ rate limits
    def check_quota(self, session: Session, *, actor: str, kind: str, email: str | None) -> None:
        """RateLimitedError when this employee used today's unlocks/resets already (a read only).

        The attempt is counted by :meth:`count_quota` *after* the directory call, so no
        write (and on SQLite no database lock) is held while the directory answers. A
        user's turns are serialised (PostgreSQL locks their state row), so the limit holds.
        """
        limit = self.cfg.max_unlocks_per_day if kind == "unlock" else self.cfg.max_resets_per_day
        if audit.count_outside(session, f"{kind}:{actor}", DAY) >= limit:
            audit.record(session, actor=actor, action=kind, result="rate_limited", email=email,
                         detail=f"more than {limit} per day")
            raise RateLimitedError(
                f"You've reached today's limit of {limit} for this request, so this needs a person from IT.")

    def count_quota(self, session: Session, *, actor: str, kind: str) -> None:
        """Count one unlock/reset attempt for this employee today (after the directory call)."""
        limit = self.cfg.max_unlocks_per_day if kind == "unlock" else self.cfg.max_resets_per_day
        audit.hit(session, f"{kind}:{actor}", max(limit, 1), DAY)

    def take_quota(self, session: Session, *, actor: str, kind: str, email: str | None) -> None:
        """Check and count at once (for callers without a directory call in between)."""
        self.check_quota(session, actor=actor, kind=kind, email=email)
        self.count_quota(session, actor=actor, kind=kind)

    # ------------------------------------------------------------------ actions
    def unlock(self, session: Session, *, actor: str, res: Resolution) -> bool:
        """Unlock the resolved account; False when it was not locked (nothing changed)."""
        account = self._require(res)
        if not account.locked:
            audit.record(session, actor=actor, action="unlock", result="not_locked", email=res.email,
                         account=account.dn)
            return False
        self.check_quota(session, actor=actor, kind="unlock", email=res.email)
        try:
            self.directory.unlock(account)
        except Exception as exc:  # noqa: BLE001 - audited, then always a HelpdeskError
            audit.record(session, actor=actor, action="unlock", result="error", email=res.email,
                         account=account.dn, detail=_why(exc))
            raise _safe(exc) from None
        finally:
            self.count_quota(session, actor=actor, kind="unlock")
        audit.record(session, actor=actor, action="unlock", result="ok", email=res.email, account=account.dn)
        return True

    def issue_link(self, session: Session, *, actor: str, res: Resolution) -> tuple[str, ResetLink]:
        """A one-time reset URL for the requester's own account."""
        account = self._require(res)
        self.take_quota(session, actor=actor, kind="reset", email=res.email)
        token, link = tokens.issue(session, user_key=actor, email=res.email or "", account_dn=account.dn,
                                   minutes=self.cfg.reset_link_minutes)
        audit.record(session, actor=actor, action="reset_link", result="ok", email=res.email,
                     account=account.dn, detail=f"link #{link.id}, valid {self.cfg.reset_link_minutes} min")
        base = self.public_url.rstrip("/")
        return f"{base}/reset/{token}", link

    def temporary_password(self, session: Session, *, actor: str, res: Resolution) -> TemporaryPassword:
        """Set a random password that must be changed at next logon; returned once, never kept.

        ``flag_failed`` names the step that failed *after* the password was set (the password
        works, but e.g. "must change at next logon" is not set): the caller still shows it to
        its owner and tells IT. Any other failure raises a HelpdeskError (the password is unchanged).
        """
        account = self._require(res)
        self.check_quota(session, actor=actor, kind="reset", email=res.email)
        password = generate_temporary(self.cfg.temporary_password_length)
        try:
            self.directory.set_password(account, password, must_change=True)
        except PasswordSetFlagFailed as exc:
            self.count_quota(session, actor=actor, kind="reset")
            audit.record(session, actor=actor, action="temporary_password", result="partial", email=res.email,
                         account=account.dn, detail=f"password changed, {exc.step} failed: {exc.detail or ''}")
            return TemporaryPassword(password, flag_failed=exc.step)
        except Exception as exc:  # noqa: BLE001 - audited, then always a HelpdeskError
            self.count_quota(session, actor=actor, kind="reset")
            audit.record(session, actor=actor, action="temporary_password", result="error", email=res.email,
                         account=account.dn, detail=_why(exc))
            raise _safe(exc) from None
        self.count_quota(session, actor=actor, kind="reset")
        audit.record(session, actor=actor, action="temporary_password", result="ok", email=res.email,
                     account=account.dn, detail="must change at next logon")
        return TemporaryPassword(password)

    def complete_reset(self, session: Session, link: ResetLink, password: str, confirm: str) -> list[str]:
        """Apply a new password chosen on the reset page; returns problems (empty: done)."""
        return self.record_reset(session, link, self.try_reset(link.account_dn, link.email, password, confirm))

    def try_reset(self, account_dn: str, email: str, password: str, confirm: str) -> ResetOutcome:
        """The directory part of a reset (no database): check the account and the password, then set it.

        The reset page calls this *between* two short transactions, so no database
        lock is held while the directory answers; :meth:`record_reset` writes the result.
        """
        try:
            account = self.directory.read(account_dn)
            if account is None or not account.has_email(email) or account.disabled \
                    or self.directory.protection_reason(account):
                return ResetOutcome(refused=True)
            problems = check_password(password, confirm, account, self.rules)
            if not problems:
                self.directory.set_password(account, password, must_change=False)
            return ResetOutcome(problems=problems)
        except PasswordRejected as exc:
            return ResetOutcome(problems=[exc.user_message])
        except PasswordSetFlagFailed as exc:  # the new password IS set: the link is spent
            return ResetOutcome(partial=exc)
        except Exception as exc:  # noqa: BLE001 - recorded, then always a HelpdeskError for the page
            return ResetOutcome(error=exc)

    def record_reset(self, session: Session, link: ResetLink, outcome: ResetOutcome) -> list[str]:
        """Write what :meth:`try_reset` found (audit, attempts, link state); raises like the directory did."""
        actor = link.user_key
        if outcome.refused:
            link.revoked_reason = "account_changed"
            audit.record(session, actor=actor, action="reset", result="refused", email=link.email,
                         account=link.account_dn, detail="account no longer eligible")
            raise NotPermittedError("This link can no longer be used; please ask the bot again or contact IT.")
        if outcome.error is not None:
            exc = outcome.error
            if isinstance(exc, HelpdeskError) and not isinstance(exc, DirectoryError):
                audit.record(session, actor=actor, action="reset", result="error", email=link.email,
                             account=link.account_dn, detail=_why(exc))
            raise _safe(exc) from None  # DirectoryError: the page audits it as "unreachable"
        if outcome.problems:
            link.failed_attempts += 1
            if link.failed_attempts >= self.cfg.reset_page_max_attempts:
                link.revoked_reason = "too_many_attempts"
            audit.record(session, actor=actor, action="reset", result="rejected_password", email=link.email,
                         account=link.account_dn,
                         detail=f"attempt {link.failed_attempts}: {len(outcome.problems)} rule(s) failed")
            return outcome.problems
        link.used_at = utcnow()
        partial = outcome.partial
        if partial is not None:
            audit.record(session, actor=actor, action="reset", result="partial", email=link.email,
                         account=link.account_dn,
                         detail=f"link #{link.id}; password changed, {partial.step} failed: {partial.detail or ''}")
            raise partial
        audit.record(session, actor=actor, action="reset", result="ok", email=link.email,
                     account=link.account_dn, detail=f"link #{link.id}; account unlocked")
        return []

    @staticmethod
    def _require(res: Resolution) -> Account:
        if not res.ok or res.account is None:
            raise NotPermittedError(detail=f"refused: {res.refusal}")
        return res.account
