"""The Slack Web API client: base URL from settings, 429 → wait Retry-After and retry."""

from __future__ import annotations

import logging
import time

from slack_sdk import WebClient
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RetryHandler, RetryState
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse

from bot.config.slack import SlackSettings

log = logging.getLogger(__name__)


class RetryAfterHandler(RetryHandler):
    """Retry HTTP 429 after exactly the ``Retry-After`` seconds Slack asks for (capped)."""

    def __init__(self, max_retry_count: int, max_wait: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.waits: list[float] = []

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        return response is not None and response.status_code == 429

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        if response is None:  # pragma: no cover - _can_retry guarantees a response
            raise error if error is not None else RuntimeError("no response to retry")
        wait = 1.0
        for key, values in response.headers.items():
            if key.lower() == "retry-after" and values:
                try:
                    wait = float(values[0])
                except ValueError:
                    pass
        wait = min(max(wait, 0.0), self.max_wait)
        log.info("Slack rate limit on %s: retrying in %.1fs", request.url.rsplit("/", 1)[-1], wait)
        state.next_attempt_requested = True
        time.sleep(wait)
        state.increment_current_attempt()


def base_url(settings: SlackSettings) -> str:
    """The Web API base URL, with the trailing slash the SDK expects."""
    url = settings.api_base_url
    return url if url.endswith("/") else url + "/"


def build_client(settings: SlackSettings, *, per_installation: bool = False) -> WebClient:
    """A WebClient for the bot token that survives rate limits and dropped connections.

    ``per_installation`` (OAuth mode): the token is the one bound to the current work (the
    installation of the request or user), falling back to ``slack.bot_token``.
    """
    from bot.channels.slack.oauth import InstallationClient

    token = settings.bot_token.get_secret_value() if settings.bot_token else None
    return (InstallationClient if per_installation else WebClient)(
        token=token,
        base_url=base_url(settings),
        timeout=settings.request_timeout_seconds,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RetryAfterHandler(settings.rate_limit_retries, settings.max_retry_after_seconds),
        ],
    )
