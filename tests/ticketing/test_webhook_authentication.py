"""Jira webhook authentication: the shared secret or a sha256 signature, a size cap, no secret in the logs."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import httpx
import pytest

from tests.ticketing.conftest import WEBHOOK_SECRET, notifications
from tests.ticketing.webhooks import example, post


@pytest.mark.parametrize("how", ["wrong-query-secret", "no-secret", "bad-signature"])
def test_wrong_secret_is_rejected_without_effect(jira_services, bot_url, jira_ticket, how, caplog):
    body = example("mattermost-webhook-cloud-comment-created.json", jira_ticket)
    if how == "wrong-query-secret":
        r = post(bot_url, body, secret="guess")
    elif how == "no-secret":
        r = post(bot_url, body, secret=None)
    else:
        r = post(bot_url, body, secret="guess", sign=True)
    assert r.status_code == 401
    assert [n for n in notifications(jira_services, "slack:alice") if "replied" in n.reply["text"]] == []
    assert "Jira webhook rejected" in caplog.text
    assert WEBHOOK_SECRET not in caplog.text


def test_sha1_signatures_are_refused(jira_services, bot_url, jira_ticket):
    body = example("mattermost-webhook-cloud-comment-created.json", jira_ticket)
    sig = "sha1=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha1).hexdigest()
    r = httpx.post(f"{bot_url}/webhooks/jira", content=body,
                   headers={"Content-Type": "application/json", "X-Hub-Signature": sig})
    assert r.status_code == 401
    assert post(bot_url, body, sign=True).json()["result"] == "applied"


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_webhook_is_refused_with_413(jira_services, bot_url, jira_ticket, chunked):
    big = b'{"webhookEvent": "comment_created", "pad": "' + b"x" * 1_100_000 + b'"}'
    content = (iter([big[i:i + 65536] for i in range(0, len(big), 65536)]) if chunked else big)
    r = httpx.post(f"{bot_url}/webhooks/jira", content=content, params={"secret": WEBHOOK_SECRET},
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_declared_oversized_body_is_refused_before_it_is_sent(jira_services, bot_url):
    """A Content-Length over the cap is answered at once: the bot does not wait for (or buffer) it."""
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(bot_url)
    with socket.create_connection((where.hostname, where.port), timeout=5) as sock:
        sock.sendall(f"POST /webhooks/jira?secret={WEBHOOK_SECRET} HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/json\r\nContent-Length: 500000000\r\n\r\n".encode())
        answer = sock.recv(4096)  # times out (socket.timeout) if the bot waits for the body
    assert answer.startswith(b"HTTP/1.1 413")


def test_accepted_query_secret_never_reaches_the_logs(jira_services, bot_url, jira_ticket, caplog):
    caplog.set_level(logging.DEBUG)
    body = example("mattermost-webhook-cloud-comment-created.json", jira_ticket)
    r = post(bot_url, body)  # ?secret=<the real secret>
    assert r.status_code == 200 and r.json()["result"] == "applied"
    time.sleep(0.2)  # the access log line is written after the response
    server_side = [r.getMessage() for r in caplog.records
                   if not r.name.startswith(("httpx", "httpcore"))]  # not the test's own client
    assert any("/webhooks/jira" in line for line in server_side)  # the access log was captured ...
    assert not [line for line in server_side if WEBHOOK_SECRET in line]  # ... without the secret
