"""One exception hierarchy for the whole product.

Every error carries a *user-safe* message (shown in chat, CLI output, HTTP
responses) separately from its *detail* (for logs only, still free of secrets).

* HelpdeskError
  + ConfigError            bad configuration file, unknown setting, bad value
  + DataError              malformed training data / article (names file and line)
  + StorageError           database unreachable or schema mismatch
    x SchemaTooNewError    the database was migrated by newer code
  + IntegrationError       an outside system failed (retry may help)
    x DirectoryError
    x TicketingError
    x SlackError
    x NluBackendError
  + NotPermittedError      the action is refused (protected account, not yours)
  + RateLimitedError       too many requests from this employee
  + InvalidInputError      the user's own input is invalid (form field, password)
"""

from __future__ import annotations


class HelpdeskError(Exception):
    """Base class: ``user_message`` is safe to show; ``detail`` goes to logs only."""

    default_message = "Something went wrong."

    def __init__(self, user_message: str | None = None, *, detail: str | None = None) -> None:
        self.user_message = user_message or self.default_message
        self.detail = detail
        super().__init__(self.user_message)

    def __str__(self) -> str:
        return self.user_message


class ConfigError(HelpdeskError):
    """The configuration file, a setting or an environment variable is invalid.

    ``path`` (the config file, when the bad value is in it), ``field`` (dotted setting or variable name) and
    ``line`` locate it when known; the message names them too.
    """

    default_message = "The configuration is invalid."

    def __init__(
        self,
        user_message: str | None = None,
        *,
        path: str | None = None,
        field: str | None = None,
        line: int | None = None,
        detail: str | None = None,
    ) -> None:
        self.path = path
        self.field = field
        self.line = line
        super().__init__(user_message, detail=detail)


class DataError(HelpdeskError):
    """Malformed input data; ``location`` is ``file:line`` when known."""

    default_message = "The data file is invalid."

    def __init__(
        self,
        user_message: str | None = None,
        *,
        path: str | None = None,
        line: int | None = None,
        detail: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        loc = ""
        if path:
            loc = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(f"{loc}{user_message or self.default_message}", detail=detail)


class StorageError(HelpdeskError):
    """The database cannot be reached or used."""
    default_message = "The database is not available."


class SchemaTooNewError(StorageError):
    """The database was migrated by newer code than this one."""
    default_message = (
        "The database was upgraded by a newer version of the helpdesk bot; "
        "upgrade this installation before starting it."
    )


class IntegrationError(HelpdeskError):
    """An outside system failed; a retry may help."""
    default_message = "An outside system did not answer."
    retryable: bool = True

    def __init__(self, user_message: str | None = None, *, detail: str | None = None) -> None:
        super().__init__(user_message, detail=detail)
        from bot.metrics import count_integration_error  # foundation; Slack/Jira/LDAP/NLU error counters

        count_integration_error(type(self))


class DirectoryError(IntegrationError):
    """The company directory failed or is unreachable."""
    default_message = "The company directory is not reachable right now."


class TicketingError(IntegrationError):
    """The ticketing system failed or is unreachable."""
    default_message = "The ticketing system is not reachable right now."


class SlackError(IntegrationError):
    """Slack refused or did not answer a request."""
    default_message = "Slack did not accept the request."


class NluBackendError(IntegrationError):
    """The remote NLU server failed or is unreachable."""
    default_message = "The language-understanding service is not reachable right now."


class NotPermittedError(HelpdeskError):
    """The action is refused (a protected account, someone else's ticket)."""
    default_message = "I'm not allowed to do that."


class RateLimitedError(HelpdeskError):
    """Too many requests of one kind from one employee."""
    default_message = "You've reached today's limit for this request; IT staff can help instead."


class InvalidInputError(HelpdeskError):
    """The employee's own input is invalid (a form field, a password)."""
    default_message = "That input is not valid."
