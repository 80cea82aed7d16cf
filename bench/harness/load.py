"""Concurrent conversations over the HTTP chat API and the signed Slack events endpoint, then every turn checked.

Each simulated user talks for a bounded time, one message after another, to a
replica picked round-robin (so with two replicas one user's turns alternate
between processes). Every answer is kept; afterwards :func:`check_turns`
compares them with the ``analytics_event`` and ``transcript`` tables.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bench.harness.stack import API_TOKEN, SIGNING_SECRET

QUESTIONS = (
    "How do I connect to the VPN from home?", "my laptop is very slow", "hello", "thanks!",
    "How do I set up multi-factor authentication?", "the printer on floor 3 does not work",
    "where can I find the wifi password for guests", "how do I change my password",
    "cancel", "my outlook keeps asking for my password", "what is the phishing report address",
)
NOT_STORED_PREFIX = "I couldn't save that just now"
UNSURE_PREFIX = "I couldn't confirm that I saved that"  # the commit's answer was lost: stored or not


@dataclass
class Sent:
    """One request and what came back."""

    channel: str           # "http" | "slack"
    user_key: str
    text: str
    status: int            # HTTP status, 0 = no answer (connection refused/reset, time-out)
    seconds: float
    turn_id: str | None = None
    refused: bool = False  # a clean "not stored, send it again"
    unsure: bool = False   # "couldn't confirm that I saved that": recorded whole, or not at all
    replica: str = ""
    error: str = ""
    at: float = field(default_factory=time.monotonic)  # when it was sent (monotonic clock)


@dataclass
class LoadResult:
    """Everything sent in a run, with the figures."""

    sent: list[Sent] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def accepted(self) -> list[Sent]:
        return [s for s in self.sent if s.status == 200 and not s.refused and not s.unsure]

    def figures(self) -> dict[str, Any]:
        lat = sorted(s.seconds for s in self.accepted)
        statuses = Counter(s.status for s in self.sent)
        return {
            "requests": len(self.sent), "accepted": len(self.accepted),
            "refused_cleanly": sum(s.refused for s in self.sent),
            "unsure_whether_stored": sum(s.unsure for s in self.sent),
            "http_5xx": sum(n for code, n in statuses.items() if code >= 500),
            "no_answer": statuses.get(0, 0),
            "no_answer_kinds": dict(Counter(s.error for s in self.sent if s.status == 0)),
            "other_4xx": sum(n for code, n in statuses.items() if 400 <= code < 500),
            "p50_s": round(statistics.median(lat), 3) if lat else None,
            "p99_s": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 3) if lat else None,
            "messages_per_s": round(len(self.accepted) / self.seconds, 2) if self.seconds else 0.0,
        }


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 request signature headers for ``body``."""
    from slack_sdk.signature import SignatureVerifier

    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)}


def slack_event(user_id: str, channel: str, text_: str, event_id: str | None = None) -> dict[str, Any]:
    """A DM ``message`` Events API payload from ``user_id`` (fresh event id unless given)."""
    now = time.time()
    return {"token": "unused", "team_id": "T123ABC456", "api_app_id": "A0PNCHHK2", "type": "event_callback",
            "event_id": event_id or "Ev" + uuid.uuid4().hex[:12].upper(), "event_time": int(now),
            "event": {"type": "message", "channel": channel, "user": user_id, "text": text_,
                      "ts": f"{now:.6f}", "event_ts": f"{now:.6f}", "channel_type": "im"}}


async def _http_user(client: httpx.AsyncClient, urls: list[str], name: str, until: float,
                     out: list[Sent], pause: float) -> None:
    for n in itertools.count():
        if time.monotonic() >= until:
            return
        url = urls[n % len(urls)]
        said = f"{QUESTIONS[n % len(QUESTIONS)]} (ref {name}-{n})"
        started = time.monotonic()
        sent = Sent("http", f"http:{name}", said, 0, 0.0, replica=url)
        try:
            response = await client.post(url + "/api/v1/messages", json={"user": name, "text": said},
                                         headers={"Authorization": f"Bearer {API_TOKEN}"})
            sent.status = response.status_code
            if response.status_code == 200:
                body = response.json()
                sent.turn_id = body.get("turn_id")
                sent.refused = str(body.get("text", "")).startswith(NOT_STORED_PREFIX)
                sent.unsure = str(body.get("text", "")).startswith(UNSURE_PREFIX)
        except httpx.HTTPError as exc:
            sent.error = type(exc).__name__
        sent.seconds = time.monotonic() - started
        out.append(sent)
        if sent.status != 200:
            await asyncio.sleep(0.5)  # a replica is down: back off like a client would
        await asyncio.sleep(pause)


async def _slack_user(client: httpx.AsyncClient, urls: list[str], fake: Any, user_id: str, until: float,
                      out: list[Sent], pause: float, reply_wait: float) -> None:
    channel = fake.dm_of(user_id)
    for n in itertools.count():
        if time.monotonic() >= until:
            return
        said = f"{QUESTIONS[n % len(QUESTIONS)]} (ref {user_id}-{n})"
        body = json.dumps(slack_event(user_id, channel, said))
        before = replies_in(fake, channel)
        started = time.monotonic()
        sent = Sent("slack", f"slack:{user_id}", said, 0, 0.0, replica=urls[n % len(urls)])
        try:
            response = await client.post(sent.replica + "/slack/events", content=body.encode(),
                                         headers={"Content-Type": "application/json", **sign(body)})
            sent.status = response.status_code
        except httpx.HTTPError as exc:
            sent.error = type(exc).__name__
        if sent.status == 200:  # acknowledged: the answer arrives as a chat.postMessage
            while replies_in(fake, channel) == before and time.monotonic() - started < reply_wait:
                await asyncio.sleep(0.05)
            if replies_in(fake, channel) == before:
                sent.error = "no reply"
            else:
                sent.refused = last_reply_text(fake, channel).startswith(NOT_STORED_PREFIX)
        sent.seconds = time.monotonic() - started
        out.append(sent)
        await asyncio.sleep(pause if sent.status == 200 else 0.5)


def replies_in(fake: Any, channel: str) -> int:
    """Messages the bot posted into ``channel`` (ephemeral or not) that Slack accepted."""
    with fake._lock:
        return sum(1 for c in fake.calls if c.method in ("chat.postMessage", "chat.postEphemeral")
                   and c.args.get("channel") == channel and c.response.get("ok"))


def last_reply_text(fake: Any, channel: str) -> str:
    """The text of the bot's latest accepted message in ``channel``."""
    with fake._lock:
        calls = [c for c in fake.calls if c.method in ("chat.postMessage", "chat.postEphemeral")
                 and c.args.get("channel") == channel and c.response.get("ok")]
    return str(calls[-1].args.get("text", "")) if calls else ""


async def _run(urls: list[str], http_users: int, slack_users: int, seconds: float, fake: Any,
               pause: float, reply_wait: float, out: list[Sent]) -> None:
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=http_users + slack_users + 10)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        tasks = [_http_user(client, urls, f"u{n:03d}-{uuid.uuid4().hex[:6]}", until, out, pause)
                 for n in range(http_users)]
        for n in range(slack_users):
            uid = f"U{uuid.uuid4().hex[:9].upper()}"
            fake.add_user(uid, f"load{n}@example.com", f"Load User {n}")
            tasks.append(_slack_user(client, urls, fake, uid, until, out, pause, reply_wait))
        await asyncio.gather(*tasks)


def run_load(urls: list[str], *, http_users: int, slack_users: int = 0, seconds: float, fake: Any = None,
             pause: float = 0.0, reply_wait: float = 60.0) -> LoadResult:
    """``http_users`` + ``slack_users`` conversations against ``urls`` for ``seconds``."""
    result = LoadResult()
    started = time.monotonic()
    asyncio.run(_run(urls, http_users, slack_users, seconds, fake, pause, reply_wait, result.sent))
    result.seconds = time.monotonic() - started
    return result


def check_turns(database_url: str, result: LoadResult, *, slack_fake: Any = None) -> list[str]:
    """Every accepted turn recorded exactly once, for its own user; nothing half-written; refusals left no trace.

    Returns the problems found (empty: all held).
    """
    engine = create_engine(database_url)
    problems: list[str] = []
    with engine.connect() as conn:
        analytics = conn.execute(text("SELECT turn_id, user_key, question FROM analytics_event")).all()
        transcript = conn.execute(text("SELECT turn_id, user_key, speaker, text FROM transcript")).all()
    engine.dispose()
    by_turn: dict[str, list[Any]] = {}
    for row in analytics:
        by_turn.setdefault(row.turn_id, []).append(row)
    lines: dict[str, list[Any]] = {}
    for row in transcript:
        lines.setdefault(row.turn_id, []).append(row)
    # nothing half-written: every analytics turn has its two transcript lines and the other way round
    for turn_id, rows in lines.items():
        speakers = sorted(r.speaker for r in rows)
        if speakers != ["bot", "user"] or turn_id not in by_turn or len({r.user_key for r in rows}) != 1:
            problems.append(f"turn {turn_id}: half-written or mixed transcript {speakers}")
    problems.extend(f"turn {t}: analytics without transcript" for t in by_turn if t not in lines)
    problems.extend(f"turn {t}: recorded {len(r)} times" for t, r in by_turn.items() if len(r) > 1)
    # HTTP: the turn id we were given is recorded, once, for us, with what we said
    for sent in result.sent:
        if sent.channel != "http" or sent.status != 200:
            continue
        rows = by_turn.get(sent.turn_id or "", [])
        if sent.unsure:
            if len(rows) > 1:
                problems.append(f"{sent.user_key}: turn {sent.turn_id} recorded {len(rows)} times")
            continue
        if sent.refused:
            if rows:
                problems.append(f"{sent.user_key}: refused turn {sent.turn_id} was recorded anyway")
            continue
        if len(rows) != 1:
            problems.append(f"{sent.user_key}: accepted turn {sent.turn_id} recorded {len(rows)} times")
        elif rows[0].user_key != sent.user_key:
            problems.append(f"turn {sent.turn_id} of {sent.user_key} recorded for {rows[0].user_key}")
        else:
            said = [r.text for r in lines.get(sent.turn_id or "", []) if r.speaker == "user"]
            if said != [sent.text]:
                problems.append(f"turn {sent.turn_id} of {sent.user_key}: transcript says {said!r}")
    # per user: as many recorded turns as answered requests, each user's text only in their own turns
    answered = Counter(s.user_key for s in result.sent if s.status == 200 and not s.refused and not s.unsure
                       and not s.error)
    acked = Counter(s.user_key for s in result.sent if s.status == 200 and s.channel == "slack" and not s.refused)
    recorded = Counter(r.user_key for r in analytics)
    # a request cut off mid-way (the replica died, the connection reset) may or may not have been recorded,
    # but only whole: it may account for at most one extra recorded turn each (never a refused connection)
    cut_off = Counter(s.user_key for s in result.sent if (s.status == 0 and s.error not in ("", "ConnectError"))
                      or s.unsure)
    for user, count in answered.items():
        got = recorded.get(user, 0)
        if user.startswith("http:") and not count <= got <= count + cut_off[user]:
            problems.append(f"{user}: {count} answered turns, {got} recorded ({cut_off[user]} cut off)")
        if user.startswith("slack:") and got != acked[user]:
            problems.append(f"{user}: {acked[user]} acknowledged events, {got} turns recorded")
    for row in analytics:
        ref = row.question.rsplit("(ref ", 1)[-1].split("-")[0] if "(ref " in row.question else None
        if ref and not row.user_key.endswith(ref) and f":{ref}" not in row.user_key:
            problems.append(f"turn {row.turn_id}: {row.user_key} recorded {ref}'s message")
    problems.extend(f"{s.user_key}: acknowledged event never answered" for s in result.sent
                    if s.channel == "slack" and s.status == 200 and s.error == "no reply")
    return problems
