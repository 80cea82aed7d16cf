"""Slack posts from the notification outbox, exactly once (see ``bot.notify.current_delivery``).

Inside an outbox delivery every ``chat.postMessage`` carries message metadata:
``event_type`` :data:`EVENT_TYPE` and ``event_payload.ref``, the row's reference
plus the post's number within the delivery. When the row is *in doubt* (an
earlier attempt may have reached Slack: its replica died between Slack's answer
and marking the row sent, or the call failed after the request left), the post
first looks for that metadata in the conversation since the row was queued
(``conversations.history``, or ``conversations.replies`` for a thread post, both
with ``include_all_metadata``) and, when it is there, answers with the message
found instead of posting it again. If Slack cannot be read, nothing is posted:
the row waits for its next attempt (never a second copy on a guess).

This sits on the client's ``api_call``, so every path that posts an outbox row
(DMs, channel posts, triage cards and their threads) is covered in one place; it
is inert outside a delivery. Still at least once: the SDK's own retry after a
dropped connection within one attempt.
"""

from __future__ import annotations

import calendar
import logging
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web.slack_response import SlackResponse

from bot.errors import SlackError
from bot.notify import DeliveryTag, current_delivery

log = logging.getLogger(__name__)
EVENT_TYPE = "helpdesk_outbox_delivery"
PAGES = 5           # × 200 messages read back at most; beyond that we cannot tell, so we do not post
_MARK = "_helpdesk_outbox_once"


class _Posts(threading.local):
    """How many posts the current delivery on this thread has made (its n-th post is ``ref#n``)."""

    tag: DeliveryTag | None = None
    count: int = 0

    def next_ref(self, tag: DeliveryTag) -> str:
        if self.tag is not tag:
            self.tag, self.count = tag, 0
        self.count += 1
        return f"{tag.ref}#{self.count}"


_posts = _Posts()


def install(client: WebClient) -> WebClient:
    """Make ``client``'s outbox posts exactly once (idempotent; other calls are untouched)."""
    if getattr(client, _MARK, False):
        return client
    plain = client.api_call

    def api_call(api_method: str, **kwargs: Any) -> SlackResponse:
        tag = current_delivery()
        if tag is None or api_method != "chat.postMessage" or not isinstance(kwargs.get("json"), dict):
            return plain(api_method, **kwargs)
        return _post_once(client, plain, tag, kwargs)

    client.api_call = api_call  # type: ignore[method-assign]
    setattr(client, _MARK, True)
    return client


def metadata(ref: str, attempt: int) -> dict[str, Any]:
    """The message metadata stamped on an outbox post (no personal data: a row reference)."""
    return {"event_type": EVENT_TYPE, "event_payload": {"ref": ref, "attempt": attempt}}


def _post_once(client: WebClient, plain: Any, tag: DeliveryTag, kwargs: dict[str, Any]) -> SlackResponse:
    args = dict(kwargs["json"])
    ref = _posts.next_ref(tag)
    channel = str(args.get("channel") or "")
    if tag.in_doubt:
        found = find_posted(client, channel=channel, thread_ts=args.get("thread_ts"), ref=ref, tag=tag)
        if found is not None:
            log.info("outbox post %s is already in Slack (an earlier attempt); not posted again", ref)
            return SlackResponse(client=client, http_verb="POST", api_url=f"{client.base_url}chat.postMessage",
                                 req_args={}, data={"ok": True, "channel": channel, "ts": found.get("ts"),
                                                    "message": found}, headers={}, status_code=200)
    args["metadata"] = metadata(ref, tag.attempt)
    result: SlackResponse = plain("chat.postMessage", **{**kwargs, "json": args})
    return result


def find_posted(client: WebClient, *, channel: str, thread_ts: str | None, ref: str,
                tag: DeliveryTag) -> dict[str, Any] | None:
    """The message stamped ``ref`` in ``channel`` (or its thread) since the row was queued, else None.

    Raises SlackError when Slack cannot be read far enough back to tell.
    """
    oldest = f"{calendar.timegm(tag.since.timetuple())}.000000"
    cursor: str | None = None
    for _ in range(PAGES):
        args: dict[str, Any] = {"channel": channel, "oldest": oldest, "include_all_metadata": True, "limit": 200}
        if cursor:
            args["cursor"] = cursor
        answer = (client.conversations_replies(ts=str(thread_ts), **args) if thread_ts
                  else client.conversations_history(**args))
        for message in answer.get("messages") or []:
            meta = message.get("metadata") or {}
            if meta.get("event_type") == EVENT_TYPE and (meta.get("event_payload") or {}).get("ref") == ref:
                return dict(message)
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if not answer.get("has_more") or not cursor:
            return None
    raise SlackError(detail=f"could not read far enough back in {channel} to know whether {ref} was posted")


__all__ = ["EVENT_TYPE", "find_posted", "install", "metadata"]
