"""Jira webhook deliveries: authenticate, parse, apply once, notify the requester.

Authentication (either is enough; configure ``ticketing.jira.webhook_secret``):

* ``?secret=<webhook_secret>`` in the webhook URL (Jira Server/Data Center and
  Cloud "WebHooks" admin page, which cannot sign), or
* ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body keyed by the secret>``
  (what Jira Cloud sends when the webhook is registered with a secret).

The same delivery twice (same ``X-Atlassian-Webhook-Identifier`` *or* the same
body: the header is not covered by the signature, so a replay with a fresh header
is still caught by the body hash) is applied once; comments are also deduplicated
by id, and an ``issue_updated`` older (``fields.updated``) than the last one
applied does not overwrite the newer status. A delivery for an issue the bot does
not know (yet) is not remembered, so Jira's retry is applied once the worker has
recorded the key. Only issues the bot filed in Jira are touched, never local-queue
tickets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from integrations.ticketing.models import JiraWebhookDelivery, Ticket
from integrations.ticketing.notices import TicketNoticeSink
from integrations.ticketing.updates import apply_assignee, apply_comment, apply_status

log = logging.getLogger(__name__)

KNOWN_EVENTS = {"comment_created", "comment_updated", "comment_deleted", "jira:issue_created",
                "jira:issue_updated", "jira:issue_deleted"}
_COMMENT_ISSUE_ID = re.compile(r"/issue/(\d+)/comment/")


class WebhookRejected(Exception):
    """The delivery is refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class WebhookOutcome:
    """What one delivery did."""

    status: str  # applied | duplicate | ignored
    detail: str = ""


def authenticate(webhook_secret: SecretStr | None, *, body: bytes, query_secret: str | None,
                 signature: str | None) -> None:
    """Accept the delivery (``?secret=`` or a sha256 ``X-Hub-Signature``) or raise WebhookRejected."""
    if webhook_secret is None:
        raise WebhookRejected(403, "ticketing.jira.webhook_secret is not set; "
                                   "refusing unauthenticated webhooks")
    secret = webhook_secret.get_secret_value()
    if query_secret is not None and hmac.compare_digest(query_secret.encode(), secret.encode()):
        return
    if signature:
        algo, _, value = signature.partition("=")
        if algo.lower() == "sha256":  # sha1 signatures are refused
            expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, value.strip().lower()):
                return
        raise WebhookRejected(401, "bad X-Hub-Signature")
    raise WebhookRejected(401, "missing or wrong secret")


MAX_DEPTH = 40  # Jira's own deliveries nest a few levels (ADF documents a dozen at most)


def _obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a wrongly typed field is no field)."""
    return value if isinstance(value, dict) else {}


def _storable(text: str) -> str:
    """``text`` without what no database column takes: NUL characters and lone surrogates."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _str(value: Any, limit: int = 200) -> str | None:
    """``value`` when it is a non-empty string (numbers as their text), else None; shortened, storable."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = _storable(str(value)).strip()[:limit]
    return text or None


def _depth(value: Any) -> int:
    """How deeply ``value`` nests (iteratively: no recursion on hostile input)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            return level
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _text(body: Any) -> str:
    """Comment bodies: a plain string (REST v2) or Atlassian Document Format (v3)."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        if body.get("type") == "text":
            return body["text"] if isinstance(body.get("text"), str) else ""
        content = body.get("content")
        parts = [_text(c) for c in content] if isinstance(content, list) else []
        sep = "\n" if body.get("type") in ("doc",) else ""
        return sep.join(p for p in parts if p)
    return ""


def _find_ticket(session: Session, data: dict[str, Any]) -> Ticket | None:
    issue = _obj(data.get("issue"))
    key, issue_id = _str(issue.get("key"), 64), _str(issue.get("id"), 64)
    if not issue_id and isinstance(data.get("comment"), dict):
        match = _COMMENT_ISSUE_ID.search(str(data["comment"].get("self", "")))
        issue_id = match.group(1) if match else None
    if key:
        found = session.scalars(select(Ticket).where(Ticket.key == str(key),
                                                     Ticket.backend == "jira")).first()
        if found is not None:
            return found
    if issue_id:
        return session.scalars(select(Ticket).where(Ticket.remote_id == str(issue_id),
                                                    Ticket.backend == "jira")).first()
    return None


def parse(body: bytes) -> dict[str, Any]:
    """The delivery as a dict, or WebhookRejected (400) when it is not one Jira sends."""
    try:
        data = json.loads(body, parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise WebhookRejected(400, f"body is not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise WebhookRejected(400, "body is not a JSON object")
    if _depth(data) > MAX_DEPTH:
        raise WebhookRejected(400, f"body nests deeper than {MAX_DEPTH} levels")
    event = data.get("webhookEvent")
    if not isinstance(event, str):
        raise WebhookRejected(400, "no webhookEvent field")
    if event not in KNOWN_EVENTS:
        raise WebhookRejected(400, f"unknown webhookEvent {event[:60]!r}")
    if event.startswith("comment_") and not isinstance(data.get("comment"), dict):
        raise WebhookRejected(400, f"{event} without a comment object")
    if event.startswith("jira:issue_") and not isinstance(data.get("issue"), dict):
        raise WebhookRejected(400, f"{event} without an issue object")
    return data


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON: Jira never sends them."""
    raise ValueError(f"{name} is not allowed")


def handle_delivery(session: Session, webhook_secret: SecretStr | None, sink: TicketNoticeSink, *,
                    body: bytes, headers: Mapping[str, str], query_secret: str | None) -> WebhookOutcome:
    """Authenticate and apply one delivery inside ``session``'s transaction; notices go to ``sink``."""
    authenticate(webhook_secret, body=body, query_secret=query_secret,
                 signature=headers.get("x-hub-signature"))
    data = parse(body)
    event = data["webhookEvent"]
    ticket = _find_ticket(session, data)
    if ticket is None:  # not remembered: Jira's retry is applied once the worker knows the key
        return WebhookOutcome("ignored", "not a ticket opened by the helpdesk bot")
    issue_key = _str(_obj(data.get("issue")).get("key"), 64)
    keys = [f"body:{hashlib.sha256(body).hexdigest()}"]
    header = headers.get("x-atlassian-webhook-identifier")
    if header:
        keys.append(f"jira:{header}"[:200])
    try:
        with session.begin_nested():
            for delivery_key in keys:
                session.add(JiraWebhookDelivery(delivery_key=delivery_key, event=event, issue_key=issue_key))
            session.flush()
    except IntegrityError:
        return WebhookOutcome("duplicate", "delivery already applied")
    changed = []
    comment = data.get("comment") if isinstance(data.get("comment"), dict) else None
    if comment and event in ("comment_created", "jira:issue_updated") and _is_public(comment):
        body_text = _storable(_text(comment.get("body"))).strip()[:20000]
        if body_text and "via the helpdesk bot" not in body_text:
            author = _str(_obj(comment.get("author")).get("displayName")) or "IT staff"
            if apply_comment(session, ticket, sink=sink, author=author, body=body_text,
                             external_id=_str(comment.get("id"), 64)):
                changed.append("comment")
    fields = _obj(_obj(data.get("issue")).get("fields"))
    if event == "jira:issue_updated" and fields and _is_newest(ticket, fields, data):
        actor = _str(_obj(data.get("user")).get("displayName"))
        assignee = _str(_obj(fields.get("assignee")).get("displayName"))
        if apply_assignee(session, ticket, assignee, actor=actor):
            changed.append("assignee")
        status = _obj(fields.get("status"))
        name = _str(status.get("name"), 64)
        if name:
            category = "done" if _obj(status.get("statusCategory")).get("key") == "done" else "open"
            resolution = _str(_obj(fields.get("resolution")).get("name"))
            if apply_status(session, ticket, sink=sink, status=name, category=category,
                            resolution=resolution, actor=actor):
                changed.append("status")
    if not changed:
        return WebhookOutcome("ignored", "nothing the requester needs to hear")
    return WebhookOutcome("applied", ",".join(changed))


def _is_newest(ticket: Ticket, fields: dict[str, Any], data: dict[str, Any]) -> bool:
    """Whether this issue state is not older than the last one applied (and remember it)."""
    from integrations.ticketing.jira_backend import parse_jira_time

    updated = parse_jira_time(fields.get("updated")) if isinstance(fields.get("updated"), str) else None
    stamp = data.get("timestamp")
    if updated is None and isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        try:
            updated = dt.datetime.fromtimestamp(stamp / 1000, dt.UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):  # not a time Jira sends
            updated = None
    if updated is None:
        return True
    if ticket.remote_updated_at is not None and updated < ticket.remote_updated_at:
        log.info("Jira webhook for %s is older than the state already applied; ignored", ticket.key)
        return False
    ticket.remote_updated_at = updated
    return True


def _is_public(comment: dict[str, Any]) -> bool:
    """Jira Service Management internal notes (jsdPublic false) are not relayed."""
    return comment.get("jsdPublic", True) is True and not comment.get("visibility")
