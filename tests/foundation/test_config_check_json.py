"""`helpdesk config check --json` answers in JSON even when the configuration itself cannot be loaded."""

from __future__ import annotations

import json
from pathlib import Path

from tests.foundation.test_cli import config, run

SECRET = "xoxb-11111-22222-neverprintthis"


def test_invalid_configuration_is_a_json_error_naming_field_and_file(tmp_path: Path) -> None:
    env = config(tmp_path, '[server]\nport = "eighty"\n')
    env["HELPDESK_SLACK__BOT_TOKEN"] = SECRET
    proc = run(["config", "check", "--json"], tmp_path, env)
    assert proc.returncode == 1
    answer = json.loads(proc.stdout)
    assert answer["ok"] is False and answer["error"].startswith(f"Invalid configuration ({env['HELPDESK_CONFIG']})")
    assert "'server.port'" in answer["error"]
    assert (answer["field"], answer["path"], answer["line"]) == ("server.port", env["HELPDESK_CONFIG"], None)
    assert SECRET not in proc.stdout + proc.stderr
    plain = run(["config", "check"], tmp_path, env)  # without --json: the one-line error, as before
    assert plain.returncode == 1 and answer["error"] in " ".join(plain.stderr.split()) and plain.stdout == ""


def test_bad_variable_has_no_file_and_a_toml_syntax_error_has_its_line(tmp_path: Path) -> None:
    env = config(tmp_path)
    env["HELPDESK_SERVER__PORT"] = "eighty"
    answer = json.loads(run(["config", "check", "--json"], tmp_path, env).stdout)
    assert (answer["ok"], answer["field"], answer["path"]) == (False, "server.port", None)

    path = tmp_path / "broken.toml"
    path.write_text('[server]\nhost = "0.0.0.0"\nport = = 1\n', encoding="utf-8")
    proc = run(["--config", str(path), "config", "check", "--json"], tmp_path)
    answer = json.loads(proc.stdout)
    assert proc.returncode == 1
    assert (answer["ok"], answer["path"], answer["line"], answer["field"]) == (False, str(path), 3, None)


def test_a_valid_configuration_says_ok(tmp_path: Path) -> None:
    proc = run(["config", "check", "--json"], tmp_path, config(tmp_path))
    assert proc.returncode == 0 and json.loads(proc.stdout)["ok"] is True
