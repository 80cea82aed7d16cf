"""Building and posting Jira webhook deliveries (from ../shared/specs/jira/examples) in tests."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from tests.conftest import shared_path
from tests.ticketing.conftest import WEBHOOK_SECRET

DONE = {"name": "Done", "statusCategory": {"key": "done", "name": "Done"}}
IN_PROGRESS = {"name": "In Progress", "statusCategory": {"key": "indeterminate", "name": "In Progress"}}


def example(name: str, ticket, *, status: dict | None = None) -> bytes:
    """A recorded delivery, retargeted at one of our tickets (key and issue id)."""
    data = json.loads(shared_path("specs", "jira", "examples", name).read_text())
    if "issue" in data:
        data["issue"]["key"] = ticket.key
        data["issue"]["id"] = ticket.remote_id
        if status is not None:
            data["issue"]["fields"]["status"] = status
    if "comment" in data:
        old = data["comment"]["self"]
        data["comment"]["self"] = old.split("/issue/")[0] + f"/issue/{ticket.remote_id}/comment/" + \
            old.rsplit("/", 1)[1]
    return json.dumps(data).encode()


def issue_update(ticket, *, status: dict, updated: str) -> bytes:
    """An issue_updated delivery moving ``ticket`` to ``status`` at ``updated`` (Jira's time format)."""
    data = json.loads(example("mattermost-webhook-issue-updated-resolved.json", ticket, status=status))
    data["issue"]["fields"]["updated"] = updated
    if status["statusCategory"]["key"] != "done":
        data["issue"]["fields"]["resolution"] = None
    data.pop("changelog", None)
    return json.dumps(data).encode()


def post(bot_url: str, body: bytes, *, secret: str | None = WEBHOOK_SECRET, sign: bool = False,
         delivery_id: str | None = None) -> httpx.Response:
    """POST one delivery to the bot, authenticated by ``?secret=`` or (``sign``) an X-Hub-Signature."""
    headers = {"Content-Type": "application/json"}
    params = {}
    if sign:
        headers["X-Hub-Signature"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    elif secret is not None:
        params["secret"] = secret
    if delivery_id:
        headers["X-Atlassian-Webhook-Identifier"] = delivery_id
    return httpx.post(f"{bot_url}/webhooks/jira", content=body, headers=headers, params=params)
