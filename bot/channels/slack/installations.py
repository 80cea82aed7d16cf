"""Where OAuth installations live: slack_sdk's InstallationStore and OAuthStateStore on our database.

Bot and user tokens are encrypted at rest with Fernet (``slack.oauth.token_key``); during a key
rotation ``old_token_key`` still decrypts, and :meth:`SqlInstallationStore.reencrypt` (run at
start-up) moves every row to the current key. An OAuth ``state`` is consumed by deleting its row,
so it works once, on one replica, and only before it expires. The store also remembers which
installation each user was last seen through, for messages the bot
sends outside a request (:mod:`.installations_users`).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.channels.slack.installations_models import SlackInstallation, SlackOAuthState
from bot.errors import ConfigError
from bot.storage.base import utcnow
from bot.storage.session import Database

log = logging.getLogger(__name__)
_TOKENS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


class TokenCipher:
    """Encrypts tokens with the current key; decrypts with the current or the previous one."""

    def __init__(self, key: SecretStr, old_key: SecretStr | None = None) -> None:
        keys = [Fernet(k.get_secret_value().encode()) for k in (key, old_key) if k is not None]
        self._fernet = MultiFernet(keys)
        self._current = keys[0]

    def encrypt(self, token: str | None) -> str | None:
        return None if token is None else self._fernet.encrypt(token.encode()).decode("ascii")

    def decrypt(self, sealed: str | None) -> str | None:
        if sealed is None:
            return None
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except InvalidToken:
            raise ConfigError("A stored Slack token cannot be decrypted with slack.oauth.token_key "
                              "(was the key changed without keeping the old one in old_token_key?)") from None

    def is_current(self, sealed: str | None) -> bool:
        if sealed is None:
            return True
        try:
            self._current.decrypt(sealed.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def rotate(self, sealed: str | None) -> str | None:
        return None if sealed is None else self._fernet.rotate(sealed.encode("ascii")).decode("ascii")


def install_key(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> str:
    """``E…:*`` for an org-wide install, else ``E…:T…`` / ``-:T…`` for one workspace."""
    if is_enterprise_install and enterprise_id:
        return f"{enterprise_id}:*"
    return f"{enterprise_id or '-'}:{team_id or '-'}"


def _epoch(value: int | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)


def _seconds(value: dt.datetime | None) -> int | None:
    return None if value is None else int(value.replace(tzinfo=dt.UTC).timestamp())


def _joined(scopes: Any) -> str | None:
    if scopes is None:
        return None
    return scopes if isinstance(scopes, str) else ",".join(scopes)


class SqlInstallationStore(InstallationStore):
    """slack_sdk's installation store on our database, tokens encrypted (bolt's authorize reads it)."""

    def __init__(self, db: Database, cipher: TokenCipher, *, client_id: str | None = None) -> None:
        self.db = db
        self.cipher = cipher
        self.client_id = client_id

    @property
    def logger(self) -> logging.Logger:
        return log

    # --- writing -------------------------------------------------------------------
    def save(self, installation: Installation) -> None:
        """Store (or refresh) an installation; its tokens only as ciphertext."""
        key = install_key(installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
        values: dict[str, Any] = {
            "install_key": key, "client_id": self.client_id, "app_id": installation.app_id,
            "enterprise_id": installation.enterprise_id, "enterprise_name": installation.enterprise_name,
            "enterprise_url": installation.enterprise_url, "team_id": installation.team_id,
            "team_name": installation.team_name, "is_enterprise_install": bool(installation.is_enterprise_install),
            "token_type": installation.token_type, "bot_id": installation.bot_id,
            "bot_user_id": installation.bot_user_id, "bot_scopes": _joined(installation.bot_scopes),
            "bot_token_expires_at": _epoch(installation.bot_token_expires_at),
            "installer_user_id": installation.user_id, "user_scopes": _joined(installation.user_scopes),
            "user_token_expires_at": _epoch(installation.user_token_expires_at), "installed_at": utcnow(),
        }
        for name in _TOKENS:
            values[f"{name}_enc"] = self.cipher.encrypt(getattr(installation, name))
        for _attempt in range(2):  # two replicas saving the same installation at once: the loser updates
            try:
                with self.db.session() as session:
                    row = session.scalars(select(SlackInstallation).where(
                        SlackInstallation.install_key == key,
                        SlackInstallation.installer_user_id == installation.user_id)).first()
                    if row is None:
                        session.add(SlackInstallation(**values))
                    else:
                        for name, value in values.items():
                            setattr(row, name, value)
                return
            except IntegrityError:
                continue

    def save_bot(self, bot: Bot) -> None:
        """Token rotation refreshed a bot token: update the newest row of its installation."""
        with self.db.session() as session:
            row = self._newest(session, install_key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install))
            if row is not None:
                row.bot_token_enc = self.cipher.encrypt(bot.bot_token)
                row.bot_refresh_token_enc = self.cipher.encrypt(bot.bot_refresh_token)
                row.bot_token_expires_at = _epoch(bot.bot_token_expires_at)

    # --- reading -------------------------------------------------------------------
    @staticmethod
    def _keys(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> list[str]:
        keys = [install_key(enterprise_id, team_id, is_enterprise_install)]
        if enterprise_id and not is_enterprise_install:
            keys.append(f"{enterprise_id}:*")  # a workspace of an organisation the app is installed in
        return keys

    @staticmethod
    def _newest(session: Any, key: str, user_id: str | None = None) -> SlackInstallation | None:
        stmt = select(SlackInstallation).where(SlackInstallation.install_key == key)
        if user_id is not None:
            stmt = stmt.where(SlackInstallation.installer_user_id == user_id)
        return session.scalars(stmt.order_by(SlackInstallation.installed_at.desc(),
                                             SlackInstallation.id.desc())).first()

    def find_installation(self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
                          is_enterprise_install: bool | None = False) -> Installation | None:
        """The newest installation for the org/workspace (with ``user_id``: that user's)."""
        with self.db.session() as session:
            for key in self._keys(enterprise_id, team_id, is_enterprise_install):
                row = self._newest(session, key, user_id)
                if row is not None:
                    return self._installation(row, session if user_id is not None else None)
        return None

    def _installation(self, row: SlackInstallation, session: Any) -> Installation:
        tokens = {name: self.cipher.decrypt(getattr(row, f"{name}_enc")) for name in _TOKENS}
        if session is not None:  # a user's own row: the bot token is the installation's newest
            newest = self._newest(session, row.install_key)
            if newest is not None:
                tokens["bot_token"] = self.cipher.decrypt(newest.bot_token_enc)
                tokens["bot_refresh_token"] = self.cipher.decrypt(newest.bot_refresh_token_enc)
        return Installation(
            app_id=row.app_id, enterprise_id=row.enterprise_id, enterprise_name=row.enterprise_name,
            enterprise_url=row.enterprise_url, team_id=row.team_id, team_name=row.team_name,
            bot_token=tokens["bot_token"], bot_id=row.bot_id, bot_user_id=row.bot_user_id,
            bot_scopes=row.bot_scopes or "", bot_refresh_token=tokens["bot_refresh_token"],
            bot_token_expires_at=_seconds(row.bot_token_expires_at), user_id=row.installer_user_id,
            user_token=tokens["user_token"], user_scopes=row.user_scopes or "",
            user_refresh_token=tokens["user_refresh_token"],
            user_token_expires_at=_seconds(row.user_token_expires_at),
            is_enterprise_install=row.is_enterprise_install, token_type=row.token_type,
            installed_at=float(_seconds(row.installed_at) or 0))

    def find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                 is_enterprise_install: bool | None = False) -> Bot | None:
        """The bot of the newest installation (bolt's bot-only authorize)."""
        found = self.find_installation(enterprise_id=enterprise_id, team_id=team_id,
                                       is_enterprise_install=is_enterprise_install)
        return None if found is None or found.bot_token is None else found.to_bot()

    # --- removing (tokens_revoked / app_uninstalled) ----------------------------------
    def delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                            user_id: str | None = None) -> None:
        """Forget an installation (or one user's part of it)."""
        with self.db.session() as session:
            stmt = delete(SlackInstallation).where(
                SlackInstallation.install_key.in_(self._keys(enterprise_id, team_id, False)))
            if user_id is not None:
                stmt = stmt.where(SlackInstallation.installer_user_id == user_id)
            session.execute(stmt)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget the bot tokens of an installation."""
        with self.db.session() as session:
            for row in session.scalars(select(SlackInstallation).where(
                    SlackInstallation.install_key.in_(self._keys(enterprise_id, team_id, False)))):
                row.bot_token_enc = row.bot_refresh_token_enc = None

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget everything about an installation."""
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    # --- key rotation --------------------------------------------------------------------
    def reencrypt(self) -> int:
        """Re-encrypt every token sealed with the old key under the current one; returns rows changed."""
        changed = 0
        with self.db.session() as session:
            for row in session.scalars(select(SlackInstallation)):
                stale = [name for name in _TOKENS if not self.cipher.is_current(getattr(row, f"{name}_enc"))]
                for name in stale:
                    setattr(row, f"{name}_enc", self.cipher.rotate(getattr(row, f"{name}_enc")))
                changed += bool(stale)
        if changed:
            log.info("re-encrypted the Slack tokens of %s installation(s) with the current key", changed)
        return changed


class SqlOAuthStateStore(OAuthStateStore):
    """One-time OAuth states: issued by ``/slack/install``, consumed (deleted) by the redirect."""

    def __init__(self, db: Database, expiration_seconds: int) -> None:
        self.db = db
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        """A new random state, remembered until it is used or expires."""
        state = secrets.token_urlsafe(32)
        with self.db.session() as session:
            cutoff = utcnow() - dt.timedelta(seconds=self.expiration_seconds)
            session.execute(delete(SlackOAuthState).where(SlackOAuthState.created_at < cutoff))
            session.add(SlackOAuthState(state=state))
        return state

    def consume(self, state: str) -> bool:
        """True once for a state this app issued and that has not expired; False ever after."""
        if not state or len(state) > 64:
            return False
        cutoff = utcnow() - dt.timedelta(seconds=self.expiration_seconds)
        with self.db.session() as session:
            gone = session.execute(delete(SlackOAuthState).where(  # type: ignore[attr-defined]
                SlackOAuthState.state == state, SlackOAuthState.created_at >= cutoff)).rowcount
        return gone == 1
