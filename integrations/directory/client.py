"""The ldap3 client shared by OpenLDAP and Active Directory: TLS, binds, lookups, errors.

Every operation opens its own connection (TLS verified against ``directory.ca_file``),
binds as the least-privilege service account, and closes it: a restarted
directory never leaves the bot holding a dead socket. ldap3 errors become
``DirectoryError`` (unreachable), ``NotPermittedError`` (the directory refused) or
``PasswordRejected`` (its password policy refused), with no password in any message.
"""

from __future__ import annotations

import logging
import math
import ssl
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import ldap3
from ldap3.core import exceptions as lx
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from bot.errors import (
    ConfigError,
    DirectoryError,
    HelpdeskError,
    InvalidInputError,
    NotPermittedError,
)
from integrations.directory.settings import DirectorySettings

log = logging.getLogger(__name__)


class PasswordRejected(InvalidInputError):
    """The directory's own password policy refused the new password."""

    default_message = ("The directory refused this password (its policy: too short, too simple, "
                       "or one of your recent passwords). Please choose another.")


class PasswordSetFlagFailed(DirectoryError):
    """The new password IS set, but a follow-up step (must-change flag, unlock) failed.

    The caller must treat the password as changed: show a temporary password to its
    owner anyway, and tell IT which step is missing.
    """

    default_message = "Your password was changed, but I couldn't finish the change in the directory."

    def __init__(self, step: str, *, detail: str | None = None) -> None:
        self.step = step
        super().__init__(detail=detail)


@dataclass(frozen=True)
class Account:
    """One employee's directory entry, as much as the bot needs."""

    dn: str
    login: str
    email: str
    display_name: str
    given_name: str = ""
    surname: str = ""
    locked: bool = False
    disabled: bool = False
    must_change: bool = False
    groups: tuple[str, ...] = ()
    admin_flag: bool = False  # AD adminCount / isCriticalSystemObject
    emails: tuple[str, ...] = ()  # every mail value (lower-case); ``email`` is the first
    locked_since: str = ""  # the directory's own lockout time (identifies one lockout)
    details: dict[str, Any] = field(default_factory=dict)

    def has_email(self, address: str | None) -> bool:
        """True when ``address`` is one of this entry's mail values."""
        value = normalise_email(address)
        return value is not None and value in (self.emails or (self.email,))

    @property
    def first_name(self) -> str:
        return self.given_name or self.display_name.split(" ")[0]


def normalise_email(email: str | None) -> str | None:
    """Lower-case, trimmed e-mail, or None when it is not an address at all."""
    if not email:
        return None
    value = email.strip().lower()
    if value.count("@") != 1 or len(value) > 320 or any(c in value for c in "\r\n\x00"):
        return None
    local, domain = value.split("@")
    if not local or "." not in domain:
        return None
    return value


def norm_dn(dn: str) -> str:
    """A DN in a comparable form (lower case, no spaces around separators)."""
    try:
        parts = parse_dn(dn, escape=False, strip=True)
        return ",".join(f"{a.lower()}={v.lower()}" for a, v, _ in parts)
    except Exception:  # unparseable: compare as-is
        return dn.strip().lower()


def dn_within(dn: str, base: str) -> bool:
    """Whether ``dn`` is ``base`` or inside its subtree (case-insensitive)."""
    d, b = norm_dn(dn), norm_dn(base)
    return d == b or d.endswith("," + b)


class LdapDirectory(ABC):
    """Base class; subclasses know their directory's attributes and operations."""

    kind = "ldap"
    object_filter = "(objectClass=*)"
    login_attr = "uid"

    def __init__(self, settings: DirectorySettings) -> None:
        if not settings.url:
            raise ConfigError("directory.url is required when directory.kind is set.")
        if not settings.bind_dn or settings.bind_password is None or not settings.base_dn:
            raise ConfigError("directory.bind_dn, directory.bind_password and directory.base_dn are required.")
        self.settings = settings
        parsed = urlparse(settings.url)
        if parsed.scheme not in ("ldap", "ldaps") or not parsed.hostname:
            raise ConfigError("directory.url must look like ldaps://host:636 or ldap://host:389.")
        self.host = parsed.hostname
        self.use_ssl = parsed.scheme == "ldaps"
        self.port = parsed.port or (636 if self.use_ssl else 389)
        self.insecure = not self.use_ssl and not settings.start_tls
        if self.insecure:
            if not settings.allow_insecure:
                raise ConfigError("directory.url is plain ldap:// without start_tls: passwords would cross "
                                  "the network in clear. Use ldaps:// or start_tls = true "
                                  "(directory.allow_insecure = true is for development only).")
            log.warning("!!! INSECURE: directory %s is reached over plain LDAP without TLS "
                        "(directory.allow_insecure). Never use this in production. !!!", settings.url)
        if settings.ca_file is not None and not settings.ca_file.is_file():
            raise ConfigError(f"directory.ca_file {settings.ca_file} does not exist.")
        self.people_base = settings.people_base or settings.base_dn
        self.timeout = max(1, math.ceil(settings.timeout_seconds))  # ldap3 packs it as an integer

    # ------------------------------------------------------------------ connection
    def _server(self) -> ldap3.Server:
        tls = None
        if not self.insecure:
            tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, version=ssl.PROTOCOL_TLS_CLIENT,
                            ca_certs_file=str(self.settings.ca_file) if self.settings.ca_file else None)
        return ldap3.Server(self.host, port=self.port, use_ssl=self.use_ssl, tls=tls,
                            get_info=ldap3.NONE, connect_timeout=self.timeout)

    @contextmanager
    def connection(self) -> Iterator[ldap3.Connection]:
        """A bound service connection; every ldap3 failure becomes a user-safe error."""
        assert self.settings.bind_password is not None
        conn = ldap3.Connection(
            self._server(), user=self.settings.bind_dn,
            password=self.settings.bind_password.get_secret_value(),
            raise_exceptions=True, receive_timeout=self.timeout,
            read_only=False, auto_referrals=False)
        try:
            with translate_errors():
                conn.open()
                if self.settings.start_tls and not self.use_ssl:
                    conn.start_tls()
                conn.bind()
            with translate_errors():
                yield conn
        finally:
            try:
                conn.unbind()
            except Exception:  # already closed
                pass

    def ping(self) -> None:
        """Bind as the service account (raises DirectoryError when that fails)."""
        with self.connection():
            pass

    # ------------------------------------------------------------------ lookups
    def email_filter(self, email: str) -> str:
        return f"(&{self.object_filter}(mail={escape_filter_chars(email)}))"

    def find_by_email(self, email: str) -> Account | None:
        """The single account whose mail is exactly ``email``; None if none (or several)."""
        address = normalise_email(email)
        if address is None:
            return None
        with self.connection() as conn:
            try:
                conn.search(self.people_base_for_lookup(), self.email_filter(address),
                            search_scope=ldap3.SUBTREE, attributes=self.read_attributes(), size_limit=2)
            except lx.LDAPSizeLimitExceededResult:
                log.warning("several directory entries share one e-mail address; refusing to choose")
                return None
            entries = [e for e in conn.response if e.get("type") == "searchResEntry"]
            if len(entries) != 1:
                if len(entries) > 1:
                    log.warning("several directory entries share one e-mail address; refusing to choose")
                return None
            return self.to_account(conn, entries[0]["dn"], entries[0]["attributes"])

    def people_base_for_lookup(self) -> str:
        """Lookups search the whole base so protected accounts are found (and refused)."""
        return self.settings.base_dn or self.people_base

    def read(self, dn: str) -> Account | None:
        with self.connection() as conn:
            try:
                conn.search(dn, self.object_filter, search_scope=ldap3.BASE,
                            attributes=self.read_attributes())
            except lx.LDAPNoSuchObjectResult:
                return None
            entries = [e for e in conn.response if e.get("type") == "searchResEntry"]
            return self.to_account(conn, entries[0]["dn"], entries[0]["attributes"]) if entries else None

    def person_details(self, email: str) -> dict[str, Any] | None:
        """Department, title, location and manager of the person with this e-mail (for tickets).

        None when nobody (or more than one entry) has this e-mail, or when the directory
        cannot be asked right now: a ticket must never fail for want of these details.
        """
        try:
            account = self.find_by_email(email)
        except HelpdeskError as exc:
            log.warning("person details unavailable: %s", exc.detail or exc.user_message)
            return None
        if account is None:
            return None
        return dict(account.details)

    def manager_name(self, conn: ldap3.Connection, manager_dn: str | None) -> str | None:
        if not manager_dn:
            return None
        try:
            conn.search(manager_dn, "(objectClass=*)", search_scope=ldap3.BASE,
                        attributes=["displayName", "cn", "mail"])
        except lx.LDAPException:
            return None
        for entry in conn.response:
            if entry.get("type") == "searchResEntry":
                attrs = entry["attributes"]
                name = first(attrs.get("displayName")) or first(attrs.get("cn"))
                mail = first(attrs.get("mail"))
                return f"{name} <{mail}>" if name and mail else (name or mail)
        return None

    # ------------------------------------------------------------------ protection
    def protection_reason(self, account: Account) -> str | None:
        """Why this account must never be touched by the bot, or None."""
        s = self.settings
        if norm_dn(account.dn) == norm_dn(s.bind_dn or ""):
            return "the bot's own service account"
        for base in s.protected_bases:
            if dn_within(account.dn, base):
                return f"inside protected subtree {base}"
        lowered = {p.lower() for p in s.protected_accounts}
        listed_dns = {norm_dn(p) for p in s.protected_accounts if "=" in p}
        if account.login.lower() in lowered or norm_dn(account.dn) in listed_dns:
            return "listed in directory.protected_accounts"
        if self.people_base and not dn_within(account.dn, self.people_base):
            return f"outside the people base {self.people_base}"
        if account.admin_flag:
            return "an administrative account"
        member_of = {norm_dn(g) for g in account.groups}
        for group in s.protected_groups:
            if norm_dn(group) in member_of or self.is_member(account, group):
                return f"member of protected group {group}"
        return None

    # ------------------------------------------------------------------ abstract
    @abstractmethod
    def read_attributes(self) -> list[str]: ...

    @abstractmethod
    def to_account(self, conn: ldap3.Connection, dn: str, attrs: dict[str, Any]) -> Account: ...

    @abstractmethod
    def is_member(self, account: Account, group_dn: str) -> bool: ...

    @abstractmethod
    def unlock(self, account: Account) -> None: ...

    @abstractmethod
    def set_password(self, account: Account, new_password: str, *, must_change: bool) -> None:
        """Set the password (as the service account), unlock, and set/clear must-change."""

    @abstractmethod
    def locked_accounts(self) -> list[Account]: ...


def all_emails(value: Any) -> tuple[str, ...]:
    """Every mail value of an entry, lower-cased, in directory order."""
    values = value if isinstance(value, (list, tuple)) else ([value] if value else [])
    return tuple(str(v).strip().lower() for v in values if v)


@contextmanager
def follow_up(step: str) -> Iterator[None]:
    """After the password is set: any failure becomes PasswordSetFlagFailed (password IS set)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the password is already changed: say so, whatever failed
        detail = _describe(exc) if isinstance(exc, lx.LDAPException) else type(exc).__name__
        raise PasswordSetFlagFailed(step, detail=f"{step} failed after the password was set: {detail}") from None


def first(value: Any) -> Any:
    """The first value of a (possibly multi-valued) LDAP attribute, or None."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


COMMUNICATION_ERRORS = (lx.LDAPCommunicationError, lx.LDAPSocketOpenError, lx.LDAPSocketReceiveError,
                        lx.LDAPSocketSendError, lx.LDAPSessionTerminatedByServerError,
                        lx.LDAPStartTLSError, lx.LDAPSSLConfigurationError, lx.LDAPUnavailableResult,
                        lx.LDAPBusyResult, lx.LDAPMaximumRetriesError, lx.LDAPSocketCloseError,
                        lx.LDAPResponseTimeoutError, lx.LDAPServerPoolExhaustedError)


@contextmanager
def translate_errors() -> Iterator[None]:
    """ldap3 exceptions → the product's user-safe errors (no password in any text)."""
    try:
        yield
    except (DirectoryError, NotPermittedError, InvalidInputError):
        raise
    except lx.LDAPBindError as exc:
        raise DirectoryError(detail=f"service account bind failed: {_describe(exc)}") from None
    except lx.LDAPInvalidCredentialsResult as exc:
        raise DirectoryError(detail=f"service account bind failed: {_describe(exc)}") from None
    except lx.LDAPInsufficientAccessRightsResult as exc:
        raise NotPermittedError(
            "The directory did not allow this change; IT staff can do it for you.",
            detail=f"insufficient access: {_describe(exc)}") from None
    except lx.LDAPConstraintViolationResult as exc:
        raise PasswordRejected(detail=_describe(exc)) from None
    except lx.LDAPUnwillingToPerformResult as exc:
        # AD answers a policy refusal of unicodePwd with unwillingToPerform (0000052D).
        raise PasswordRejected(detail=_describe(exc)) from None
    except COMMUNICATION_ERRORS as exc:
        raise DirectoryError(detail=f"{type(exc).__name__}: {_describe(exc)}") from None
    except lx.LDAPException as exc:
        raise DirectoryError(detail=f"{type(exc).__name__}: {_describe(exc)}") from None


def _describe(exc: Exception) -> str:
    """A short description of an ldap3 error, without request contents."""
    desc = getattr(exc, "description", None)
    message = getattr(exc, "message", None)
    text = " ".join(str(x) for x in (desc, message) if x) or type(exc).__name__
    return text[:300]
