"""Fault run: the directory (a real OpenLDAP, slapd) goes away in the middle of account conversations.

Slack users whose e-mail is in the directory ask for a password reset and answer
"yes" to the offer, over and over, against one `helpdesk serve`; part-way through
slapd is stopped for a while and then started again. Every signed event must be
acknowledged and answered (no 5xx, no silence, no traceback); while the directory
is away the answer says so and offers IT (also to a "yes" given to an offer made
before the cut: mid-flow); once it is back, resets work again.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.harness.load import last_reply_text, replies_in, sign, slack_event
from bench.harness.runs import deployment

UNREACHABLE = "couldn't reach the company directory"
SCRIPT = ("I forgot my password", "yes")
OFFER = "I can give you a one-time link"
LINK = "Here is your one-time link"


@dataclass
class Turn:
    """One message of the scripted conversation and what came of it."""

    user: str
    text: str
    at: float
    status: int = 0
    answered: bool = False
    reply: str = ""


def _talk(url: str, fake: Any, user_id: str, until: float, out: list[Turn], lock: threading.Lock) -> None:
    channel = fake.dm_of(user_id)
    with httpx.Client(timeout=60) as client:
        n = 0
        while time.monotonic() < until:
            said = SCRIPT[n % len(SCRIPT)]
            n += 1
            body = json.dumps(slack_event(user_id, channel, said))
            before = replies_in(fake, channel)
            turn = Turn(user_id, said, time.monotonic())
            try:
                turn.status = client.post(url + "/slack/events", content=body.encode(),
                                          headers={"Content-Type": "application/json", **sign(body)}).status_code
            except httpx.HTTPError:
                turn.status = 0
            deadline = time.monotonic() + 60
            while turn.status == 200 and replies_in(fake, channel) == before and time.monotonic() < deadline:
                time.sleep(0.05)
            turn.answered = replies_in(fake, channel) > before
            turn.reply = last_reply_text(fake, channel) if turn.answered else ""
            with lock:
                out.append(turn)
            time.sleep(0.2)


def directory_outage_run(folder: Path, *, models_dir: Path, users: int = 6, seconds: float = 45.0,
                         outage: float = 10.0) -> dict[str, Any]:
    """``users`` Slack users in reset conversations; slapd stopped for ``outage`` s a third of the way in."""
    from integrations.directory.testing.common import demo_people
    from integrations.directory.testing.slapd import Slapd

    if shutil.which("slapd") is None:
        return {"skipped": "slapd is not installed (apt-get install slapd ldap-utils)"}
    people = [p for p in demo_people() if p.get("mail") and not p["disabled"]][:users]
    slapd = Slapd(folder / "slapd")
    slapd.start()
    try:
        sections = {"directory": slapd.settings(max_resets_per_day=100_000)}
        with deployment(folder / "serve", backend="sqlite", replicas=1, models_dir=models_dir, pg_url=None,
                        sections=sections) as dep:
            ids = []
            for n, person in enumerate(people):
                uid = f"UDIR{n:05d}"
                dep.fake.add_user(uid, str(person["mail"]), str(person.get("cn", uid)))
                ids.append(uid)
            turns: list[Turn] = []
            lock = threading.Lock()
            until = time.monotonic() + seconds
            threads = [threading.Thread(target=_talk, args=(dep.urls[0], dep.fake, uid, until, turns, lock))
                       for uid in ids]
            for t in threads:
                t.start()
            time.sleep(seconds / 3)
            slapd.stop()
            cut_at = time.monotonic()
            time.sleep(outage)
            slapd.start()
            back_at = time.monotonic()
            for t in threads:
                t.join()
            during = [t for t in turns if cut_at + 1 < t.at < back_at]  # the first second may be in flight
            after = [t for t in turns if t.at > back_at + 3]           # the bot reconnects on the next call
            return {
                "users": len(ids), "seconds": seconds, "outage_seconds": outage, "turns": len(turns),
                "http_5xx": sum(t.status >= 500 for t in turns),
                "not_acknowledged": sum(t.status != 200 for t in turns),
                "acknowledged_never_answered": sum(t.status == 200 and not t.answered for t in turns),
                "during_outage_turns": len(during),
                "during_outage_told_directory_unreachable": sum(UNREACHABLE in t.reply for t in during),
                "mid_flow_yes": len(mid_flow := _mid_flow(turns, cut_at, back_at)),
                "mid_flow_yes_told_unreachable": sum(UNREACHABLE in t.reply for t in mid_flow),
                "after_outage_turns": len(after),
                "after_outage_still_unreachable": sum(UNREACHABLE in t.reply for t in after),
                "after_outage_reset_links": sum(t.reply.startswith(LINK) for t in after),
                "replies_by_kind": dict(Counter(_kind(t.reply) for t in turns)),
                "server_tracebacks": dep.tracebacks(),
                "slack_contract_violations": len(dep.fake.violations),
            }
    finally:
        slapd.stop()


def _mid_flow(turns: list[Turn], cut_at: float, back_at: float) -> list[Turn]:
    """Each "yes" sent while the directory was away to an offer made before (the flow was mid-way)."""
    found = []
    by_user: dict[str, list[Turn]] = {}
    for turn in sorted(turns, key=lambda t: t.at):
        by_user.setdefault(turn.user, []).append(turn)
    for mine in by_user.values():
        for before, turn in zip(mine, mine[1:], strict=False):
            if turn.text == "yes" and cut_at < turn.at < back_at and before.reply.startswith(OFFER):
                found.append(turn)
    return found


def _kind(reply: str) -> str:
    if not reply:
        return "none"
    if UNREACHABLE in reply:
        return "directory unreachable"
    return reply.split(".")[0][:60]
