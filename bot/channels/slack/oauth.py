"""The OAuth install mode: bolt's OAuth flow and authorize on our store, and the token per request.

``/slack/install`` and ``/slack/oauth_redirect`` run bolt's :class:`~slack_bolt.oauth.OAuthFlow`
(state issued and consumed once in our database, tied to the installer's browser by bolt's
cookie); the installation goes to :class:`~.installations.SqlInstallationStore`, tokens encrypted.
Every signed request is authorized by bolt's ``InstallationStoreAuthorize`` for its
enterprise/team (an unknown workspace is refused before any work starts).

The adapter's collaborators share one :class:`InstallationClient`: its token is the one bound to
the current thread of work (:func:`bound_token`), else ``slack.bot_token``. :class:`Installations`
binds it — from bolt's authorize result for the request's own thread (and what that thread hands to
the quick pool, see :class:`ContextTrackingExecutor`), and from the user a job or notification is for,
through the installation that user was last seen in (after a restart too).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.middleware import Middleware
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.channels.slack.executor import TrackingExecutor
from bot.channels.slack.installations import SqlInstallationStore, SqlOAuthStateStore, TokenCipher
from bot.channels.slack.installations_users import UserInstallations
from bot.channels.slack.logs import bolt_logger
from bot.config.slack import SlackOAuthSettings
from bot.messages import Reply
from bot.storage.session import Database

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
MANIFEST = Path(__file__).with_name("manifest.yml")
_BOUND: contextvars.ContextVar[str | None] = contextvars.ContextVar("slack_bound_token", default=None)


@contextmanager
def bound_token(token: str | None) -> Iterator[None]:
    """Within the block, :class:`InstallationClient` calls on this thread use ``token`` (None: unchanged)."""
    if token is None:
        yield
        return
    reset = _BOUND.set(token)
    try:
        yield
    finally:
        _BOUND.reset(reset)


class InstallationClient(WebClient):
    """A WebClient whose token is the one bound to the current context, else the configured default."""

    @property
    def token(self) -> str | None:
        return _BOUND.get() or self._default_token

    @token.setter
    def token(self, value: str | None) -> None:
        self._default_token = value


class ContextTrackingExecutor(TrackingExecutor):
    """The quick pool, running each task in a copy of the submitter's context (the bound token goes along)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def manifest_scopes() -> list[str]:
    """The bot scopes the shipped manifest asks for (the default install scopes)."""
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8")) or {}
    scopes = (((data.get("oauth_config") or {}).get("scopes") or {}).get("bot")) or []
    return [str(s) for s in scopes]


class Installations:
    """The OAuth mode's parts: store, states, who-is-where, and binding the right token."""

    def __init__(self, settings: SlackOAuthSettings, db: Database, *, public_url: str) -> None:
        assert settings.client_id and settings.client_secret and settings.token_key  # enabled
        self.settings = settings
        self.store = SqlInstallationStore(db, TokenCipher(settings.token_key, settings.old_token_key),
                                          client_id=settings.client_id)
        self.states = SqlOAuthStateStore(db, settings.state_expiration_seconds)
        self.users = UserInstallations(db, self.store, settings.token_cache_seconds)
        self.redirect_uri = settings.redirect_uri or public_url.rstrip("/") + REDIRECT_PATH

    def oauth_settings(self) -> OAuthSettings:
        """bolt's OAuth settings: our stores, a redirect (no install page) from ``/slack/install``."""
        secret = self.settings.client_secret
        assert secret is not None
        settings = OAuthSettings(
            client_id=self.settings.client_id, client_secret=secret.get_secret_value(),
            scopes=self.settings.scopes or manifest_scopes(), user_scopes=self.settings.user_scopes,
            redirect_uri=self.redirect_uri, install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH,
            install_page_rendering_enabled=False, authorization_url=self.settings.authorization_url,
            installation_store=self.store, installation_store_bot_only=True, state_store=self.states,
            state_expiration_seconds=self.settings.state_expiration_seconds)
        # bolt's authorize on our store, bot tokens only (the bot never acts as a user); auth.test once
        # per token, not on every request (an uninstalled workspace has no token left to find)
        settings.authorize = InstallationStoreAuthorize(
            logger=bolt_logger(), installation_store=self.store, client_id=settings.client_id,
            client_secret=settings.client_secret, bot_only=True, cache_enabled=True,
            token_rotation_expiration_minutes=settings.token_rotation_expiration_minutes)
        return settings

    @contextmanager
    def for_user(self, user_id: str | None) -> Iterator[None]:
        """Bind the bot token of the installation ``user_id`` belongs to (unknown user: the default)."""
        if _BOUND.get() is not None or not user_id:
            yield
            return
        with bound_token(self.users.bot_token(user_id)):
            yield

    def middleware(self) -> Middleware:
        """The bolt middleware (after authorize, before the intake): remember the user, bind the token."""
        return _RememberInstallation(self)

    def handler(self, handle: Callable[[dict[str, Any], bool], None]) -> Callable[[dict[str, Any], bool], None]:
        """A job handler run with the token of the job's user (live jobs and jobs recovered after a crash)."""
        def run(job: dict[str, Any], live: bool) -> None:
            user = job.get("user")
            with self.for_user(user if isinstance(user, str) else None):
                handle(job, live)
        return run

    def sender(self, send: Callable[[str, Reply], None]) -> Callable[[str, Reply], None]:
        """A notification sender that posts with the token of the user the notification is for."""
        def run(user_key: str, reply: Reply) -> None:
            target = user_key.split(":", 1)[1] if ":" in user_key else user_key
            with self.for_user(target if target[:1] in ("U", "W") else None):
                send(user_key, reply)
        return run


class _RememberInstallation(Middleware):
    def __init__(self, installations: Installations) -> None:
        self.installations = installations

    def process(self, *, req: BoltRequest, resp: BoltResponse,
                next: Callable[[], BoltResponse]) -> BoltResponse | None:  # noqa: A002 - bolt's name
        ctx = req.context
        if ctx.user_id and (ctx.team_id or ctx.enterprise_id):
            self.installations.users.remember(ctx.user_id, ctx.enterprise_id, ctx.team_id,
                                              bool(ctx.is_enterprise_install))
        with bound_token(ctx.bot_token):
            return next()
