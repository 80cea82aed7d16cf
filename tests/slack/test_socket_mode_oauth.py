"""Socket Mode with the OAuth install mode: one app-level connection carries every workspace's events, and
each is answered with the token that workspace's install stored (no slack.bot_token needed).

The real server (its lifespan connects Socket Mode, as `helpdesk serve` does) serves /slack/install; the
install goes through the spec-validating fake's oauth.v2.access, the events through the fake WebSocket.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.slack.conftest import APP_TOKEN, SlackStack, example, unique_event
from tests.slack.fake_slack import FakeSlack
from tests.slack.fake_socket import FakeSocketMode
from tests.slack.test_followups import bare_stack
from tests.slack.test_oauth_install import (
    CLIENT_ID,
    CLIENT_SECRET,
    SECOND_TOKEN,
    SECOND_USER,
    TOKEN_KEY,
    install,
)
from tests.slack.test_socket_mode import deliver, envelope

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def oauth_socket_stack(fake_slack: FakeSlack, socket_server: FakeSocketMode, models_dir: Path,
                       tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackStack]:
    from tests.leakcheck import register_secret

    fake_slack.add_user(SECOND_USER, "sasha.novak@second.example.com", "Sasha Novak")
    register_secret(SECOND_TOKEN, CLIENT_SECRET, TOKEN_KEY)
    fake_slack.socket_url = socket_server.url
    try:
        yield from bare_stack(tmp_path_factory.mktemp("slack-socket-oauth"), fake_slack, models_dir,
                              bot_token=None, signing_secret=None, app_token=APP_TOKEN,
                              socket_mode_in_server=True,
                              oauth={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                     "token_key": TOKEN_KEY})
    finally:
        fake_slack.socket_url = None


def home_envelope(user: str, team: str) -> dict:
    payload = unique_event(example("app_mention.json"), type="app_home_opened", user=user, tab="home",
                           channel="D0HOME", team=team)
    payload["event"].pop("text", None)
    payload.update(team_id=team, enterprise_id=None, authorizations=[{
        "enterprise_id": None, "team_id": team, "user_id": "UBOTHELP1", "is_bot": True,
        "is_enterprise_install": False}])
    return envelope("events_api", payload, retry_attempt=0)


def test_socket_mode_events_are_answered_with_the_installing_workspaces_token(
        oauth_socket_stack: SlackStack, socket_server: FakeSocketMode) -> None:
    assert oauth_socket_stack.client.post("/slack/events").status_code == 404  # no HTTP events: Socket Mode only
    assert install(oauth_socket_stack, "code-socket", SECOND_TOKEN, team="T0SECOND").status_code == 200
    oauth_socket_stack.fake.reset()
    deliver(oauth_socket_stack, socket_server, home_envelope(SECOND_USER, "T0SECOND"))
    [published] = oauth_socket_stack.fake.calls_to("views.publish", ok_only=True)
    assert published.args["user_id"] == SECOND_USER and published.token == SECOND_TOKEN
    assert socket_server.violations == []


def test_socket_mode_events_of_a_workspace_that_did_not_install_are_not_answered(
        oauth_socket_stack: SlackStack, socket_server: FakeSocketMode) -> None:
    oauth_socket_stack.fake.reset()
    deliver(oauth_socket_stack, socket_server, home_envelope(SECOND_USER, "T0NOTINSTALLED"))
    assert oauth_socket_stack.fake.calls_to("views.publish") == []
    # the same event from a workspace that did install is answered: it was the missing install, not the socket
    assert install(oauth_socket_stack, "code-socket-again", SECOND_TOKEN, team="T0SECOND").status_code == 200
    deliver(oauth_socket_stack, socket_server, home_envelope(SECOND_USER, "T0SECOND"))
    assert [c.token for c in oauth_socket_stack.fake.calls_to("views.publish", ok_only=True)] == [SECOND_TOKEN]
