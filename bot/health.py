"""`helpdesk config check`: every integration, live or on its embedded default, and what is wrong.

Checks are offline (no call to Slack, Jira, the directory or an identity
provider), except the database, which is reached. Secrets are reported only as
"set" / "not set".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.config import Settings
from bot.config.console import OidcProvider
from bot.config.slack import SlackSettings
from bot.errors import HelpdeskError
from bot.storage.session import Database, describe_url

Item = dict[str, Any]  # name, mode, status, details (str); a sign-in provider's row adds "provider"


def _item(name: str, mode: str, problems: list[str], warnings: list[str], ok_details: str) -> Item:
    if problems:
        return {"name": name, "mode": mode, "status": "error", "details": "; ".join(problems)}
    if warnings:
        return {"name": name, "mode": mode, "status": "warning", "details": "; ".join(warnings)}
    return {"name": name, "mode": mode, "status": "ok", "details": ok_details}


def _database(s: Settings) -> Item:
    url = s.database.url.get_secret_value()
    try:
        db = Database(url)
        mode = "embedded SQLite" if db.dialect == "sqlite" else db.dialect
        db.check()
        db.dispose()
        return _item("database", mode, [], [], describe_url(db.url))
    except HelpdeskError as exc:
        return _item("database", "unknown", [exc.user_message], [], "")


def _slack(s: Settings) -> Item:
    c = s.slack
    if not c.configured:
        extra = [] if c.signing_secret is None and c.app_token is None else [
            "slack.signing_secret/app_token are set but slack.bot_token is not"]
        return _item("slack", "off (terminal and HTTP API only)", extra, [],
                     "set slack.bot_token (or slack.oauth) to enable the Slack app")
    problems: list[str] = []
    warnings: list[str] = []
    oauth = c.oauth.enabled
    token = c.bot_token.get_secret_value() if c.bot_token else ""
    if (c.bot_token is not None or not oauth) and not token.startswith("xoxb-"):
        # OAuth install mode: bot_token is optional (the fallback for posts that name no workspace)
        problems.append("slack.bot_token must be a bot token (starts with xoxb-)")
    socket = c.app_token is not None
    if socket and not c.app_token.get_secret_value().startswith("xapp-"):  # type: ignore[union-attr]
        problems.append("slack.app_token must be an app-level token (starts with xapp-)")
    if oauth:
        problems += _slack_oauth(c)
    if not socket and c.signing_secret is None:
        problems.append("slack.signing_secret is required in HTTP mode (or set slack.app_token for Socket Mode)")
    if oauth and c.bot_token is None and c.triage_channel:
        warnings.append("slack.triage_channel is set but slack.bot_token is not: in OAuth mode the triage "
                        "cards are posted with slack.bot_token (the workspace of the triage channel)")
    if c.triage_channel and c.triage_cards and not (c.it_channel or c.it_usergroup):
        warnings.append("IT staff are whoever is in slack.triage_channel (no slack.it_channel or it_usergroup): "
                        "keep that channel private, as anyone in it can claim, reply and resolve and sees the "
                        "requesters' directory details on the cards")
    mode = "live, Socket Mode" if socket else "live, HTTP mode (/slack/events)"
    if oauth:
        mode += ", OAuth install (/slack/install)"
    details = ", ".join(part for part in (
        "bot token set" if c.bot_token is not None else "",
        "app token set" if socket else "",
        "signing secret set" if c.signing_secret is not None else "",
        "OAuth client secret and token key set" if oauth else "") if part)
    return _item("slack", mode, problems, warnings, details)


def _slack_oauth(c: SlackSettings) -> list[str]:
    """The OAuth install settings' problems (the secrets are only ever named, never shown)."""
    o = c.oauth
    problems: list[str] = []
    assert o.client_secret is not None and o.token_key is not None  # enabled
    secret = o.client_secret.get_secret_value()
    if c.signing_secret is not None and secret == c.signing_secret.get_secret_value():
        problems.append("slack.oauth.client_secret equals slack.signing_secret: copy the Client Secret "
                        "from the app's Basic Information page")
    if o.old_token_key is not None and o.old_token_key.get_secret_value() == o.token_key.get_secret_value():
        problems.append("slack.oauth.old_token_key equals token_key: set token_key to the new key")
    if o.redirect_uri and not o.redirect_uri.endswith("/slack/oauth_redirect"):
        problems.append("slack.oauth.redirect_uri must end with /slack/oauth_redirect (the route that "
                        "finishes the install)")
    return problems


def _directory(s: Settings) -> Item:
    c = s.directory
    if not c.configured:
        return _item("directory", "none (embedded default)", [], [],
                     "account unlock/reset requests become tickets for IT")
    problems: list[str] = []
    warnings: list[str] = []
    if not c.url:
        problems.append("directory.url is required")
    elif c.url.startswith("ldap://") and not c.start_tls:
        if c.allow_insecure:
            warnings.append("plain LDAP without TLS (directory.allow_insecure): development only")
        else:
            problems.append("directory.url is plain ldap:// without start_tls; use ldaps:// or start_tls = true")
    elif not c.url.startswith(("ldap://", "ldaps://")):
        problems.append("directory.url must start with ldaps:// or ldap://")
    for field in ("bind_dn", "base_dn"):
        if not getattr(c, field):
            problems.append(f"directory.{field} is required")
    if c.bind_password is None:
        problems.append("directory.bind_password is not set")
    if c.ca_file is not None and not Path(c.ca_file).is_file():
        problems.append(f"directory.ca_file {c.ca_file} does not exist")
    warnings += c.reset_page_warnings(s.server.public_url)
    mode = "live, Active Directory" if c.kind == "ad" else "live, OpenLDAP"
    return _item("directory", mode, problems, warnings, f"{c.url}, bind as {c.bind_dn}, password set")


def _ticketing(s: Settings) -> Item:
    c = s.ticketing
    if c.backend == "local":
        return _item("ticketing", "local queue (embedded default)", [], [],
                     "tickets are kept in the bot's database; work them with `helpdesk tickets`")
    j = c.jira
    problems, warnings = [], []
    if not j.url:
        problems.append("ticketing.jira.url is required")
    elif not j.url.startswith(("https://", "http://")):
        problems.append("ticketing.jira.url must be an http(s) URL")
    cloud = j.email is not None or j.api_token is not None
    server = j.personal_access_token is not None
    if cloud and server:
        problems.append("set either ticketing.jira.email + api_token (Cloud) or personal_access_token (Server), "
                        "not both")
    elif cloud and (j.email is None or j.api_token is None):
        problems.append("Jira Cloud needs both ticketing.jira.email and ticketing.jira.api_token")
    elif not cloud and not server:
        problems.append("Jira credentials are missing: email + api_token (Cloud) or personal_access_token (Server)")
    if j.webhook_secret is None:
        warnings.append("ticketing.jira.webhook_secret is not set: Jira updates cannot reach employees")
    mode = "live, Jira Cloud" if cloud else "live, Jira Server/Data Center"
    return _item("ticketing", mode, problems, warnings, f"{j.url}, project {j.project}, credentials set")


def _nlu(s: Settings) -> Item:
    c = s.nlu
    problems: list[str] = []
    if c.low_confidence > c.high_confidence:
        problems.append("nlu.low_confidence must not exceed nlu.high_confidence")
    if c.backend == "rasa":
        if not c.rasa_url:
            problems.append("nlu.rasa_url is required when nlu.backend = \"rasa\"")
        return _item("nlu", "remote Rasa server", problems, [], f"{c.rasa_url}/model/parse")
    from intents.factory import STALE, current_fingerprint
    from intents.store import ModelStore

    store = ModelStore(s.paths.models_dir)
    warnings: list[str] = []
    try:
        model = store.load()
    except HelpdeskError as exc:
        model = None
        warnings.append(exc.user_message)
    if model is None:
        warnings.append(f"no trained model in {store.root}: it will be trained from "
                        f"{s.paths.data_dir}/intents at start-up (or run `helpdesk train`)")
    elif model.fingerprint != current_fingerprint(s.nlu, s.paths.data_dir):
        warnings.append(f"model {model.meta.get('version')} is stale: {STALE}; run `helpdesk train`")
    details = f"model {model.meta.get('version')} in {store.root}" if model else str(store.root)
    return _item("nlu", "built-in classifier (embedded default)", problems, warnings, details)


def _kb(s: Settings) -> Item:
    path = Path(s.kb.articles_dir)
    problems = [] if path.is_dir() else [f"kb.articles_dir {path} is not a folder"]
    return _item("knowledge base", "articles in the database", problems, [], f"imports from {path}")


def _security(s: Settings) -> Item:
    from bot.security import insecure_settings

    found = insecure_settings(s)
    if s.server.allow_insecure:
        return _item("security", "development (server.allow_insecure)", [], found,
                     "no unsafe setting found")
    return _item("security", "production", found, [], "TLS everywhere it matters; secrets long enough")


def _console_sign_in(s: Settings) -> list[Item]:
    """One row per console sign-in provider: its issuer's host, whether its client id and secret are set.

    An empty client secret, or a discovery URL that is not https (but on this machine), never gets
    here: loading the settings refuses it, naming the field, and `config check` fails with that error.
    """
    rows: list[Item] = []
    for provider in s.console.providers():
        summary = _provider_summary(provider)
        field = "console.slack" if provider.name == "slack" else f"console.oidc '{provider.name}'"
        problems = [f"{field}: {key.replace('_', ' ')} is not set" for key in ("client_id", "client_secret")
                    if not summary[f"{key}_set"]]
        warnings = [] if s.console.enabled else ["console.enabled is false: nobody signs in with this provider"]
        mode = "Sign in with Slack" if provider.name == "slack" else f"OpenID Connect ({provider.button})"
        row = _item(f"console sign-in: {provider.name}", mode, problems, warnings, summary["text"])
        if row["status"] != "ok":
            row["details"] = f"{summary['text']}; {row['details']}"
        row["provider"] = {k: v for k, v in summary.items() if k != "text"}
        rows.append(row)
    return rows


def _provider_summary(provider: OidcProvider) -> dict[str, Any]:
    """What the report says of a provider: never a secret, only whether it is set."""
    url = urlsplit(provider.discovery_url)
    host = url.netloc.rsplit("@", 1)[-1]  # host[:port], without any user:password@
    issuer = host if url.scheme == "https" else f"{url.scheme}://{host}"
    client_id = bool(provider.client_id.strip())
    secret = bool(provider.client_secret.get_secret_value().strip())
    text = (f"issuer {issuer}; client id {'set' if client_id else 'not set'}; "
            f"client secret {'set' if secret else 'not set'}")
    return {"name": provider.name, "issuer_host": host, "client_id_set": client_id, "client_secret_set": secret,
            "text": text}


CHECKS: list[Callable[[Settings], Item]] = [_database, _slack, _directory, _ticketing, _nlu, _kb, _security]


def check_configuration(settings: Settings) -> dict[str, Any]:
    """One entry per integration (name, mode: live / embedded default, status, details), then per sign-in provider."""
    return {
        "config_file": str(settings.config_file) if settings.config_file else None,
        "integrations": [check(settings) for check in CHECKS] + _console_sign_in(settings),
    }
