"""Secrets typed by a user are masked before anything is stored."""

from __future__ import annotations

import pytest

from bot.redact import MASK, redact


def test_known_token_shapes_are_masked() -> None:
    samples = [
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "xapp-1-A0123456789-1234567890123-abcdef0123456789",
        "ATATT3xFfGF0abcdefghijklmnopqrstuvwxyz0123456789",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "Bearer abcdefghijklmnopqrstuvwxyz123456",
    ]
    for secret in samples:
        out = redact(f"here it is: {secret} thanks")
        assert secret not in out, secret
        assert MASK in out


def test_labelled_passwords_are_masked_but_words_kept() -> None:
    out = redact("my password is Hunter2!x and the VPN still fails")
    assert "Hunter2!x" not in out
    assert "VPN still fails" in out
    assert redact("pw: s3cr3t") == f"pw: {MASK}"


def test_a_labelled_secret_in_a_query_string_leaves_the_other_parameters_readable() -> None:
    """An access-log line keeps its ordinary parameters; every secret-named one is masked."""
    assert redact("POST /webhooks/jira?secret=wh-9x8y&user=1 HTTP/1.1") == \
        f"POST /webhooks/jira?secret={MASK}&user=1 HTTP/1.1"
    assert redact("GET /x?secret=a1&access_token=tok9z&page=2") == f"GET /x?secret={MASK}&access_token={MASK}&page=2"
    assert redact("/cb?code=abc&state=st-1&client_secret=s3cr3t") == f"/cb?code={MASK}&state=st-1&client_secret={MASK}"
    assert redact("?pw=a&new_password=Hunter2x&issue_key=IT-1") == f"?pw={MASK}&new_password={MASK}&issue_key=IT-1"


@pytest.mark.parametrize("typed", ["my password is ab&cd&ef", "my password is Tr0ub&x=4dor", "password: &Abc=123xyz",
                                   "token=abc123&password_confirmation=hunter22"])
def test_a_typed_password_with_ampersands_or_equals_is_masked_whole(typed: str) -> None:
    out = redact(typed)
    for piece in ("cd", "ef", "4dor", "Abc", "123xyz", "hunter22"):
        if piece in typed:
            assert piece not in out, (typed, out)


def test_exact_configured_secrets_are_masked() -> None:
    assert redact("bind with Zq9-very-odd", ["Zq9-very-odd"]) == f"bind with {MASK}"


def test_ordinary_text_is_untouched() -> None:
    text = "My laptop won't connect to the office Wi-Fi since Monday (ticket IT-123)."
    assert redact(text) == text


def test_file_paths_in_tracebacks_stay_readable() -> None:
    line = 'File "/work/main/.venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py", line 1967'
    assert redact(line) == line
    assert "ab12cd34ef56" not in redact("token ab12cd34ef56ab12cd34ef56ab12cd34ef56 expired")
