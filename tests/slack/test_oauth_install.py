"""The OAuth install mode: /slack/install → Slack → /slack/oauth_redirect, installations kept encrypted,
and every request (and notification) answered with the token of the workspace it belongs to.

The code exchange is the spec-validating fake's ``oauth.v2.access`` (client credentials as HTTP
Basic auth); the events are signed and go through the real server.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from tests.slack.conftest import SlackStack, example, unique_event
from tests.slack.fake_slack import FakeSlack
from tests.slack.test_followups import bare_stack

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "client-secret-for-tests-0123456789"
TOKEN_KEY = Fernet.generate_key().decode()
SECOND_TOKEN = "xoxb-second-workspace-5555-secretpart"
ORG_TOKEN = "xoxb-org-wide-7777-secretpart"
SECOND_USER, ORG_USER = "U0SECOND1", "W0ORGUSER"


@pytest.fixture(scope="module")
def oauth_stack(fake_slack: FakeSlack, tmp_path_factory: pytest.TempPathFactory,
                models_dir: Path) -> Iterator[SlackStack]:
    from tests.leakcheck import register_file, register_secret

    fake_slack.add_user(SECOND_USER, "sasha.novak@second.example.com", "Sasha Novak")
    fake_slack.add_user(ORG_USER, "olu.ade@org.example.com", "Olu Ade")
    register_secret(SECOND_TOKEN, ORG_TOKEN, CLIENT_SECRET, TOKEN_KEY)  # in no log of the session
    tmp = tmp_path_factory.mktemp("slack-oauth")
    register_file(tmp / "helpdesk.db", "the OAuth test database")  # nor in the database file
    yield from bare_stack(tmp, fake_slack, models_dir,
                          oauth={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token_key": TOKEN_KEY})


def start_install(stack: SlackStack) -> tuple[str, str]:
    """GET /slack/install: (the state in Slack's URL, the state in the browser cookie)."""
    response = stack.client.get("/slack/install", follow_redirects=False)
    assert response.status_code == 302
    location = urllib.parse.urlsplit(response.headers["location"])
    query = urllib.parse.parse_qs(location.query)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("slack-app-oauth-state=") and "HttpOnly" in cookie
    return query["state"][0], cookie.split(";")[0].split("=", 1)[1]


def grant(fake: FakeSlack, code: str, token: str, *, team: str | None, enterprise: str | None = None,
          org_wide: bool = False) -> None:
    """What Slack's oauth.v2.access answers for ``code`` (the spec's example shape)."""
    fake.oauth_grants[code] = {
        "ok": True, "access_token": token, "token_type": "bot", "scope": "chat:write,im:history,users:read",
        "bot_user_id": "UBOTHELP1", "app_id": "A0KRD7HC3",
        "team": {"id": team, "name": "Second Workspace"} if team else None,
        "enterprise": {"id": enterprise, "name": "Example Org"} if enterprise else None,
        "is_enterprise_install": org_wide,
        "authed_user": {"id": "U0INSTALLER", "scope": "", "access_token": None, "token_type": None},
    }


def finish(stack: SlackStack, state: str, code: str, cookie: str | None) -> Any:
    headers = {"Cookie": f"slack-app-oauth-state={cookie}"} if cookie else {}
    return stack.client.get(f"/slack/oauth_redirect?code={code}&state={state}", headers=headers,
                            follow_redirects=False)


def install(stack: SlackStack, code: str, token: str, **where: Any) -> Any:
    grant(stack.fake, code, token, **where)
    state, cookie = start_install(stack)
    return finish(stack, state, code, cookie)


def home_opened(stack: SlackStack, user: str, *, team: str, enterprise: str | None = None,
                org_wide: bool = False) -> Any:
    payload = unique_event(example("app_mention.json"), type="app_home_opened", user=user, tab="home",
                           channel="D0HOME", team=team)
    payload["event"].pop("text", None)
    payload.update(team_id=team, enterprise_id=enterprise, authorizations=[{
        "enterprise_id": enterprise, "team_id": None if org_wide else team, "user_id": "UBOTHELP1",
        "is_bot": True, "is_enterprise_install": org_wide}])
    return stack.event(payload)


def test_install_redirects_to_slack_with_a_one_time_state(oauth_stack: SlackStack) -> None:
    response = oauth_stack.client.get("/slack/install", follow_redirects=False)
    assert response.status_code == 302
    location = urllib.parse.urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://slack.com/oauth/v2/authorize"
    query = urllib.parse.parse_qs(location.query)
    assert query["client_id"] == [CLIENT_ID]
    assert "chat:write" in query["scope"][0].split(",")  # the manifest's bot scopes
    assert query["redirect_uri"] == ["http://127.0.0.1:8080/slack/oauth_redirect"]  # server.public_url + path
    from bot.channels.slack.installations_models import SlackOAuthState

    with oauth_stack.services.db.session() as session:
        assert query["state"][0] in {s.state for s in session.scalars(select(SlackOAuthState))}


def test_code_exchange_stores_the_installation_encrypted(oauth_stack: SlackStack) -> None:
    done = install(oauth_stack, "code-second", SECOND_TOKEN, team="T0SECOND")
    assert done.status_code == 200
    assert SECOND_TOKEN not in done.text
    [exchange] = oauth_stack.fake.calls_to("oauth.v2.access", ok_only=True)
    assert exchange.token == f"basic:{CLIENT_ID}"  # client credentials as HTTP Basic auth
    assert exchange.args["code"] == "code-second"
    assert exchange.args["redirect_uri"].endswith("/slack/oauth_redirect")
    assert [c.token for c in oauth_stack.fake.calls_to("auth.test")][-1] == SECOND_TOKEN
    db = oauth_stack.services.db
    with db.session() as session:  # nowhere in the database in clear
        rows = session.execute(text("SELECT * FROM slack_installation")).all()
    assert len(rows) == 1 and SECOND_TOKEN not in json.dumps([list(map(str, r)) for r in rows])
    path = Path(db.engine.url.database or "")
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")):
        assert not part.exists() or SECOND_TOKEN.encode() not in part.read_bytes()
    from bot.web.slack import slack_adapter

    store = slack_adapter(oauth_stack.client.app).installations.store
    found = store.find_installation(enterprise_id=None, team_id="T0SECOND")
    assert found is not None and found.bot_token == SECOND_TOKEN  # decrypts with the key


def test_replayed_bad_or_foreign_state_is_refused(oauth_stack: SlackStack) -> None:
    grant(oauth_stack.fake, "code-replay", "xoxb-replay-0000-secretpart", team="T0REPLAY")
    state, cookie = start_install(oauth_stack)
    assert finish(oauth_stack, "made-up-state", "code-replay", "made-up-state").status_code == 401
    assert finish(oauth_stack, state, "code-replay", None).status_code == 400  # not the browser that started
    assert finish(oauth_stack, state, "code-replay", cookie).status_code == 200
    assert finish(oauth_stack, state, "code-replay", cookie).status_code == 401  # used once
    assert len(oauth_stack.fake.calls_to("oauth.v2.access")) == 1


def test_an_event_from_the_second_workspace_is_answered_with_its_token(oauth_stack: SlackStack) -> None:
    install(oauth_stack, "code-second-again", SECOND_TOKEN, team="T0SECOND")
    oauth_stack.fake.reset()
    assert home_opened(oauth_stack, SECOND_USER, team="T0SECOND").status_code == 200
    [published] = oauth_stack.fake.calls_to("views.publish", ok_only=True)
    assert published.args["user_id"] == SECOND_USER and published.token == SECOND_TOKEN
    assert {c.token for c in oauth_stack.fake.calls_to("users.info")} <= {SECOND_TOKEN}

    # a notification for that user (a ticket update, a reminder) later goes out with the same token
    from bot.messages import Reply
    from bot.notify import deliver_pending, enqueue

    with oauth_stack.services.db.session() as session:
        enqueue(session, user_key=f"slack:{SECOND_USER}", reply=Reply(text="IT replied on IT-5"),
                dedupe_key="oauth-test-note")
    assert deliver_pending(oauth_stack.services) == 1
    [post] = [c for c in oauth_stack.fake.calls_to("chat.postMessage", ok_only=True) if "IT-5" in c.args["text"]]
    assert post.token == SECOND_TOKEN


def test_an_unknown_workspace_is_not_answered(oauth_stack: SlackStack) -> None:
    home_opened(oauth_stack, SECOND_USER, team="T0UNKNOWN")
    assert oauth_stack.fake.calls_to("views.publish") == []


def test_an_org_wide_install_answers_every_workspace_of_the_organisation(oauth_stack: SlackStack) -> None:
    assert install(oauth_stack, "code-org", ORG_TOKEN, team=None, enterprise="E0ORG",
                   org_wide=True).status_code == 200
    from bot.channels.slack.installations_models import SlackInstallation

    with oauth_stack.services.db.session() as session:
        org = session.scalars(select(SlackInstallation).where(SlackInstallation.enterprise_id == "E0ORG")).one()
        assert (org.install_key, org.is_enterprise_install, org.team_id) == ("E0ORG:*", True, None)
    oauth_stack.fake.reset()
    home_opened(oauth_stack, ORG_USER, team="T0WORKSPACE9", enterprise="E0ORG", org_wide=True)
    [published] = oauth_stack.fake.calls_to("views.publish", ok_only=True)
    assert published.token == ORG_TOKEN


def test_uninstalling_the_app_forgets_the_workspace_tokens(oauth_stack: SlackStack) -> None:
    from bot.channels.slack.installations_models import SlackInstallation

    install(oauth_stack, "code-second-last", SECOND_TOKEN, team="T0SECOND")
    payload = unique_event(example("app_mention.json"), type="app_uninstalled")
    payload["event"] = {"type": "app_uninstalled"}
    payload.update(team_id="T0SECOND", enterprise_id=None)
    assert oauth_stack.event(payload).status_code == 200
    with oauth_stack.services.db.session() as session:
        assert session.scalars(select(SlackInstallation).where(SlackInstallation.team_id == "T0SECOND")).all() == []
    oauth_stack.fake.reset()
    home_opened(oauth_stack, SECOND_USER, team="T0SECOND")
    assert oauth_stack.fake.calls_to("views.publish") == []


def test_token_key_rotation_keeps_installations_readable() -> None:
    from pydantic import SecretStr

    from bot.channels.slack.installations import TokenCipher

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = TokenCipher(SecretStr(old)).encrypt("xoxb-rotate-me")
    rotating = TokenCipher(SecretStr(new), SecretStr(old))
    assert rotating.decrypt(sealed) == "xoxb-rotate-me" and not rotating.is_current(sealed)
    moved = rotating.rotate(sealed)
    assert TokenCipher(SecretStr(new)).decrypt(moved) == "xoxb-rotate-me"


def test_oauth_settings_refuse_a_short_secret_or_a_bad_key(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from bot.config.slack import SlackOAuthSettings

    with pytest.raises(ValidationError, match="client_secret"):
        SlackOAuthSettings(client_id=CLIENT_ID, client_secret="short", token_key=TOKEN_KEY)
    with pytest.raises(ValidationError, match="Fernet key"):
        SlackOAuthSettings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_key="x" * 40)
    with pytest.raises(ValidationError, match="together"):
        SlackOAuthSettings(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert not SlackOAuthSettings().enabled


def test_a_state_is_consumed_once_even_by_replicas_racing(migrated_db: Any) -> None:
    import threading

    from bot.channels.slack.installations import SqlOAuthStateStore

    replicas = [SqlOAuthStateStore(migrated_db, 600) for _ in range(4)]
    state = replicas[0].issue()
    results: list[bool] = []
    barrier = threading.Barrier(len(replicas))

    def consume(store: SqlOAuthStateStore) -> None:
        barrier.wait(10)
        results.append(store.consume(state))

    threads = [threading.Thread(target=consume, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [False, False, False, True]
    assert not SqlOAuthStateStore(migrated_db, 600).consume("not-issued-here")


def test_an_expired_state_is_refused(migrated_db: Any) -> None:
    import datetime as dt

    from sqlalchemy import update

    from bot.channels.slack.installations import SqlOAuthStateStore
    from bot.channels.slack.installations_models import SlackOAuthState

    store = SqlOAuthStateStore(migrated_db, 600)
    state = store.issue()
    with migrated_db.session() as session:
        session.execute(update(SlackOAuthState).values(created_at=dt.datetime(2020, 1, 1)))
    assert not store.consume(state)


def _oauth_toml(tmp_path: Path, extra: str = "") -> dict[str, str]:
    from tests.foundation.test_cli import config

    return config(tmp_path, f'[server]\npublic_url = "https://helpdesk.example.com"\n'
                            f'[slack]\nsigning_secret = "signing-secret-for-tests-0123"\n{extra}'
                            f'[slack.oauth]\nclient_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
                            f'token_key = "{TOKEN_KEY}"\n')


def test_config_check_accepts_oauth_only_mode_and_never_prints_its_secrets(tmp_path: Path) -> None:
    from tests.foundation.test_cli import run

    env = _oauth_toml(tmp_path)
    proc = run(["config", "check", "--json"], tmp_path, env)
    report = json.loads(proc.stdout)
    slack = next(item for item in report["integrations"] if item["name"] == "slack")
    assert slack["status"] == "ok", slack
    assert "OAuth install" in slack["mode"] and "client secret and token key set" in slack["details"]
    security = next(item for item in report["integrations"] if item["name"] == "security")
    assert security["status"] == "ok", security
    assert CLIENT_SECRET not in proc.stdout + proc.stderr and TOKEN_KEY not in proc.stdout + proc.stderr


def test_config_check_names_bad_oauth_settings_without_showing_them(tmp_path: Path) -> None:
    from bot.config import load_settings
    from bot.health import check_configuration

    env = _oauth_toml(tmp_path, 'triage_channel = "C0TRIAGE1"\n')
    path = Path(env["HELPDESK_CONFIG"])
    path.write_text(path.read_text().replace(
        "[slack.oauth]\n", f'[slack.oauth]\nold_token_key = "{TOKEN_KEY}"\n'
                           'redirect_uri = "http://helpdesk.example.com/oauth/done"\n'), encoding="utf-8")
    report = check_configuration(load_settings(path, environ={}))
    items = {item["name"]: item for item in report["integrations"]}
    slack, security = items["slack"], items["security"]
    assert slack["status"] == "error"
    assert "old_token_key equals token_key" in slack["details"]
    assert "redirect_uri must end with /slack/oauth_redirect" in slack["details"]
    assert "slack.oauth.redirect_uri is not https://" in security["details"]
    assert TOKEN_KEY not in json.dumps(report) and CLIENT_SECRET not in json.dumps(report)
    # a bot token that is not a bot token is still an error in OAuth mode (it is the fallback token)
    path.write_text(path.read_text().replace("[slack]\n", '[slack]\nbot_token = "xoxp-user-token-1234"\n'),
                    encoding="utf-8")
    slack = next(i for i in check_configuration(load_settings(path, environ={}))["integrations"]
                 if i["name"] == "slack")
    assert "must be a bot token" in slack["details"]
