"""A Hypothesis fuzzer over every HTTP endpoint of a running `helpdesk serve`.

Each input is checked as it is answered: never a 5xx; never a 2xx for a request
that must be refused (no or a wrong bearer token, a missing or wrong Slack
signature, a wrong webhook secret, an unknown reset token). After the run the
server's log is searched for tracebacks (see ``Deployment.tracebacks``).
"""

from __future__ import annotations

import json
import string
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.harness.load import sign
from bench.harness.stack import API_TOKEN

JSON_LEAF = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
             | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=60))
JSON = st.recursive(JSON_LEAF, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids,
                                                                                         max_size=4), max_leaves=12)
WEIRD_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=()), max_size=300) | st.sampled_from(
    ["\ud800", "a" * 5000, "{" * 3000, "[" * 5000, "NaN", "1e999", "\x00", "password: hunter2", "<script>"])


def _raw_json(value: Any) -> str:
    """JSON text that may carry NaN/Infinity and lone surrogates (what a hostile client can send)."""
    return json.dumps(value, allow_nan=True, ensure_ascii=True)


def deep(depth: int, opener: str = "[") -> str:
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "{":
        return '{"a":' * depth + "1" + "}" * depth
    return opener * depth + closer * depth


@dataclass
class FuzzReport:
    """Counts per endpoint; the failures (first 20 kept)."""

    inputs: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    wrong_acceptances: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def note(self, endpoint: str, response: httpx.Response | None, *, must_refuse: bool, what: str) -> None:
        if response is None:
            return  # not sendable as HTTP at all (e.g. a header value h11 refuses): not an input
        self.inputs[endpoint] += 1
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.server_errors.append(f"{endpoint} {response.status_code}: {what[:200]!r}")
        elif must_refuse and response.status_code < 300:
            self.wrong_acceptances.append(f"{endpoint} {response.status_code}: {what[:200]!r}")

    def figures(self) -> dict[str, Any]:
        return {"inputs": sum(self.inputs.values()), "per_endpoint": dict(self.inputs),
                "http_5xx": len(self.server_errors), "wrong_acceptances": len(self.wrong_acceptances),
                "examples_5xx": self.server_errors[:20], "examples_wrong": self.wrong_acceptances[:20],
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "inputs_per_s": round(sum(self.inputs.values()) / self.seconds, 1) if self.seconds else 0.0}


class _SafeClient(httpx.Client):
    """An httpx client whose requests return None when the input cannot be sent as HTTP (client-side refusal),
    and a synthetic 599 when the server gave no answer (a crash or a dropped connection counts as a 5xx)."""

    def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        try:
            return super().request(*args, **kwargs)
        except (httpx.LocalProtocolError, UnicodeEncodeError, ValueError):
            return None
        except httpx.TransportError as exc:
            return httpx.Response(599, text=f"no answer: {type(exc).__name__}")


# What an HTTP client can put in a header value (h11 refuses control characters and a trailing space, so
# inputs outside this never reach the server and would not count): visible characters, sent as UTF-8 bytes.
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x2FFF,
                                             blacklist_categories=("Cc", "Zs")), max_size=80)


def _run(budget: int, test: Callable[..., None]) -> None:
    settings(max_examples=budget, deadline=None, database=None, derandomize=False,
             suppress_health_check=list(HealthCheck))(test)()


def fuzz(base_url: str, budget: int = 10_000) -> FuzzReport:
    """About ``budget`` inputs spread over the endpoints (the NLU-heavy ones get fewer)."""
    report = FuzzReport()
    client = _SafeClient(base_url=base_url, timeout=60)
    share = {"api": 0.25, "api_unauth": 0.1, "parse": 0.05, "slack_signed": 0.2, "slack_forged": 0.1,
             "slack_forms": 0.1, "jira": 0.1, "reset": 0.05, "paths": 0.05}  # reset/unauth: 2 requests each
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    started = time.monotonic()

    @given(body=JSON | st.fixed_dictionaries({"user": st.text(max_size=40) | JSON, "text": WEIRD_TEXT | JSON},
                                             optional={"action_id": st.text(max_size=40) | JSON, "value": JSON}))
    def api(body: Any) -> None:
        payload = _raw_json(body)
        response = client.post("/api/v1/messages", content=payload.encode(),
                               headers={**auth, "Content-Type": "application/json"})
        report.note("api", response, must_refuse=False, what=payload)

    @given(token=HEADER_TEXT, body=JSON)
    def api_unauth(token: str, body: Any) -> None:
        header = "Bearer " + token
        if header == auth["Authorization"]:
            return
        response = client.post("/api/v1/messages", content=_raw_json({"user": "fuzz", "text": "hi"}).encode(),
                               headers={"Authorization": header.encode(), "Content-Type": "application/json"})
        report.note("api_unauth", response, must_refuse=True, what=header)

    @given(body=JSON | st.fixed_dictionaries({"text": WEIRD_TEXT | JSON}) | st.sampled_from(
        [deep(3000), deep(3000, "{")]))
    def parse(body: Any) -> None:
        payload = body if isinstance(body, str) and body[:1] in "[{" else _raw_json(body)
        response = client.post("/model/parse", content=payload.encode(), headers={**auth, "Content-Type":
                                                                                  "application/json"})
        report.note("parse", response, must_refuse=False, what=payload)

    event = st.fixed_dictionaries({
        "type": st.sampled_from(["event_callback", "url_verification", "app_rate_limited"]) | JSON,
        "event_id": st.text(max_size=20) | JSON, "team_id": st.text(max_size=12) | JSON,
        "event": JSON | st.fixed_dictionaries({
            "type": st.sampled_from(["message", "app_mention", "app_home_opened"]) | JSON,
            "user": st.sampled_from(["U123FUZZ", ""]) | JSON, "text": WEIRD_TEXT | JSON,
            "channel": st.sampled_from(["D0123FUZZ", "C999"]) | JSON, "ts": st.text(max_size=20) | JSON}),
    }, optional={"challenge": st.text(max_size=20) | JSON})

    @given(body=event | JSON, stamp=st.sampled_from([None, 0, -1, "abc"]) | st.integers())
    def slack_signed(body: Any, stamp: Any) -> None:
        payload = _raw_json(body)
        headers = {"Content-Type": "application/json", **sign(payload)}
        if stamp is not None and stamp != 0:
            headers["X-Slack-Request-Timestamp"] = str(stamp)
        response = client.post("/slack/events", content=payload.encode(), headers=headers)
        report.note("slack_signed", response, must_refuse=stamp is not None and stamp != 0, what=payload)

    @given(body=event | JSON, signature=HEADER_TEXT)
    def slack_forged(body: Any, signature: str) -> None:
        payload = _raw_json(body)
        headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(int(time.time())),
                   "X-Slack-Signature": signature.encode()}  # raw UTF-8 bytes (httpx sends str headers as ASCII)
        response = client.post("/slack/events", content=payload.encode(), headers=headers)
        report.note("slack_forged", response, must_refuse=True, what=payload)

    action = st.fixed_dictionaries({
        "type": st.sampled_from(["block_actions", "view_submission", "shortcut"]) | JSON,
        "user": st.fixed_dictionaries({"id": st.sampled_from(["U123FUZZ", "W111"]) | JSON}) | JSON,
        "actions": st.lists(st.fixed_dictionaries({
            "action_id": st.sampled_from(["account.reset_link", "ticket.submit", "account.unlock", "x"]) | JSON,
            "value": st.text(max_size=40) | JSON}), max_size=2) | JSON,
        "response_url": st.sampled_from(["https://evil.example.com/hook", ""]) | JSON,
        "view": JSON, "channel": JSON, "container": JSON,
    })

    @given(payload=action | JSON, command=st.booleans())
    def slack_forms(payload: Any, command: bool) -> None:
        if command:
            body = urllib.parse.urlencode({"command": "/helpdesk", "text": str(payload)[:300], "user_id": "U123FUZZ",
                                           "channel_id": "D0123FUZZ", "team_id": "T1"})
        else:
            body = "payload=" + urllib.parse.quote(_raw_json(payload))
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        response = client.post("/slack/events", content=body.encode(), headers=headers)
        report.note("slack_forms", response, must_refuse=False, what=body)

    @given(body=JSON | st.sampled_from([deep(3000, "{")]), secret=st.sampled_from(["", "wrong"]) | st.text(
        max_size=30))
    def jira(body: Any, secret: str) -> None:
        payload = body if isinstance(body, str) else _raw_json(body)
        response = client.post("/webhooks/jira", params={"secret": secret}, content=payload.encode(),
                               headers={"Content-Type": "application/json"})
        report.note("jira", response, must_refuse=True, what=payload)

    @given(token=st.text(alphabet=string.ascii_letters + string.digits + "-_%./", max_size=60),
           form=st.dictionaries(st.sampled_from(["password", "confirm", "csrf", "x"]), st.text(max_size=40)))
    def reset(token: str, form: dict[str, str]) -> None:
        quoted = urllib.parse.quote(token, safe="")
        got = client.get(f"/reset/{quoted}")
        report.note("reset_get", got, must_refuse=True, what=token)
        posted = client.post(f"/reset/{quoted}", data=form)
        report.note("reset_post", posted, must_refuse=True, what=token)

    @given(path=st.text(alphabet=string.printable, max_size=40), method=st.sampled_from(["GET", "POST", "PUT",
                                                                                          "DELETE", "OPTIONS"]))
    def paths(path: str, method: str) -> None:
        target = "/" + urllib.parse.quote(path.lstrip("/"), safe="/?=&")
        response = client.request(method, target, content=b"{}")
        report.note("paths", response, must_refuse=False, what=f"{method} {target}")

    try:
        for name, test in (("api", api), ("api_unauth", api_unauth), ("parse", parse),
                           ("slack_signed", slack_signed), ("slack_forged", slack_forged),
                           ("slack_forms", slack_forms), ("jira", jira), ("reset", reset), ("paths", paths)):
            _run(max(1, int(budget * share[name])), test)
    finally:
        client.close()
        report.seconds = time.monotonic() - started
    return report
