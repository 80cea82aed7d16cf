"""`helpdesk config check` lists the console's sign-in providers, never their secrets, and refuses unsafe ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.health import check_configuration
from tests.foundation.test_cli import assert_one_line_error, config, run

SLACK_SECRET = "slack-signin-secret-4f7a9c"
OKTA_SECRET = "okta-client-secret-b81e2d"
DEV_SECRET = "dev-client-secret-0c33aa"
OKTA = {"name": "okta", "label": "Okta", "client_id": "0oa1okta",
        "discovery_url": "https://acme.okta.com/.well-known/openid-configuration", "client_secret": OKTA_SECRET}
DEV = {"name": "dev", "client_id": "dev-client", "client_secret": DEV_SECRET,
       "discovery_url": "http://127.0.0.1:9999/.well-known/openid-configuration"}
CONSOLE_TOML = f'''
[console.slack]
client_id = "123.456"
client_secret = "{SLACK_SECRET}"
[[console.oidc]]
name = "okta"
label = "Okta"
discovery_url = "{OKTA['discovery_url']}"
client_id = "0oa1okta"
client_secret = "{OKTA_SECRET}"
'''


def providers(report: dict) -> dict[str, dict]:
    return {i["name"]: i for i in report["integrations"] if i["name"].startswith("console sign-in")}


def test_each_provider_is_reported_with_its_issuer_host_and_what_is_set(make_settings, sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, console={"slack": {"client_id": "123.456", "client_secret": SLACK_SECRET},
                                                  "oidc": [OKTA, DEV]})
    report = check_configuration(settings)
    rows = providers(report)
    assert list(rows) == ["console sign-in: slack", "console sign-in: okta", "console sign-in: dev"]
    assert [r["provider"] for r in rows.values()] == [
        {"name": "slack", "issuer_host": "slack.com", "client_id_set": True, "client_secret_set": True},
        {"name": "okta", "issuer_host": "acme.okta.com", "client_id_set": True, "client_secret_set": True},
        {"name": "dev", "issuer_host": "127.0.0.1:9999", "client_id_set": True, "client_secret_set": True}]
    assert {r["status"] for r in rows.values()} == {"ok"}
    assert rows["console sign-in: okta"]["mode"] == "OpenID Connect (Okta)"
    assert rows["console sign-in: okta"]["details"] == "issuer acme.okta.com; client id set; client secret set"
    assert rows["console sign-in: dev"]["details"].startswith("issuer http://127.0.0.1:9999;")  # http shown
    dumped = json.dumps(report)
    assert not any(secret in dumped for secret in (SLACK_SECRET, OKTA_SECRET, DEV_SECRET))


def test_providers_of_a_disabled_console_are_a_warning(make_settings, sqlite_url: str) -> None:
    report = check_configuration(make_settings(sqlite_url, console={"enabled": False, "oidc": [OKTA]}))
    [row] = providers(report).values()
    assert row["status"] == "warning" and "console.enabled is false" in row["details"]
    assert "issuer acme.okta.com" in row["details"]


def test_a_blank_client_id_is_an_error(make_settings, sqlite_url: str) -> None:
    report = check_configuration(make_settings(sqlite_url, console={"oidc": [{**OKTA, "client_id": "  "}]}))
    [row] = providers(report).values()
    assert row["status"] == "error" and row["provider"]["client_id_set"] is False
    assert row["details"] == ("issuer acme.okta.com; client id not set; client secret set; "
                              "console.oidc 'okta': client id is not set")


def test_no_provider_no_row(make_settings, sqlite_url: str) -> None:
    assert providers(check_configuration(make_settings(sqlite_url))) == {}


def test_the_command_lists_providers_in_the_table_and_json_without_secrets(tmp_path: Path) -> None:
    env = config(tmp_path, CONSOLE_TOML)
    as_json = run(["config", "check", "--json"], tmp_path, env)
    assert as_json.returncode == 0, as_json.stderr
    rows = providers(json.loads(as_json.stdout))
    assert rows["console sign-in: slack"]["provider"]["client_secret_set"] is True
    table = run(["config", "check"], tmp_path, {**env, "COLUMNS": "250"})
    assert "console sign-in: okta" in table.stdout and "issuer acme.okta.com" in table.stdout
    for proc in (as_json, table):
        output = proc.stdout + proc.stderr
        assert SLACK_SECRET not in output and OKTA_SECRET not in output


@pytest.mark.parametrize("change, field, why", [
    (("client_secret = \"" + OKTA_SECRET + "\"", 'client_secret = ""'), "console.oidc.0.client_secret",
     "must not be empty"),
    (("https://acme.okta.com", "http://acme.okta.com"), "console.oidc.0.discovery_url", "must be https"),
    (('client_id = "123.456"', 'client_id = "123.456"\n'
                               'discovery_url = "http://slack.example.com/.well-known/openid-configuration"'),
     "console.slack.discovery_url", "must be https"),
])
def test_an_empty_secret_or_a_clear_text_issuer_fails_the_check(tmp_path: Path, change: tuple[str, str],
                                                                  field: str, why: str) -> None:
    env = config(tmp_path, CONSOLE_TOML.replace(*change))
    proc = run(["config", "check"], tmp_path, env)
    assert_one_line_error(proc, field, why)
    as_json = run(["config", "check", "--json"], tmp_path, env)
    answer = json.loads(as_json.stdout)  # scripts get JSON: the same message, the setting named
    assert as_json.returncode == 1 and answer["ok"] is False and answer["field"] == field
    assert why in answer["error"] and answer["path"] == env["HELPDESK_CONFIG"]
    for p in (proc, as_json):
        assert SLACK_SECRET not in p.stdout + p.stderr and OKTA_SECRET not in p.stdout + p.stderr
