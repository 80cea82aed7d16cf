"""A fake Slack Web API on 127.0.0.1 that validates every call against Slack's OpenAPI spec.

Spec: ../shared/specs/slack/slack_web_openapi_v2.json, with the override layer
documented in ../shared/specs/PROVENANCE.md:

* ``Authorization: Bearer xoxb-…`` satisfies the spec's required ``token`` parameter
  (``xapp-…`` for ``apps.connections.open``); a call without a token fails.
* chat.* and views.* may send a JSON body; it is checked against the method's
  formData parameter names, ``required`` flags and types. Structured ``blocks`` /
  ``view`` / ``attachments`` are accepted where the spec says "string".
* views.* are POST (the spec says GET); every method accepts POST (form or JSON);
  GET only where the spec says GET.
* ``apps.connections.open`` is hand-written (POST, app-level token, ``{ok, url}``).
* Requests are strict (unknown method, unknown or missing argument, wrong type,
  malformed body → a contract violation); responses the fake sends are validated
  leniently (``additionalProperties: false`` and id patterns dropped).
* ``team_id`` is accepted on every method: slack_sdk adds it to each call when the
  request came from an Enterprise Grid workspace (bolt's per-request client), and
  org-wide tokens require it.
* Message and view payloads are also checked against Block Kit's size limits.
* Methods newer than the 2020 spec are hand-written from Slack's method pages (each cited in a
  comment at ``HAND_WRITTEN`` and listed in tests/slack/OVERRIDES.md): the assistant panel's
  ``assistant.threads.setStatus`` / ``setSuggestedPrompts`` (≤ 4 prompts, each a title and a
  message) / ``setTitle``; empty ids and malformed prompt lists are violations.
* ``oauth.*`` methods the spec marks ``security: slackAuth ["none"]`` (``oauth.v2.access``) take no
  token: they need the app's client credentials, as HTTP Basic auth or ``client_id`` + ``client_secret``
  (docs.slack.dev/reference/methods/oauth.v2.access); the spec has no response fields for it, so
  tests script the answer per ``code`` in ``oauth_grants`` (shaped like the spec's example), used once.

Violations are recorded in ``.violations`` (the test fixture fails the test on any)
and answered with HTTP 400 ``invalid_arguments``. ``fail_next`` scripts 429s and ok:false.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema

from tests.slack.blockkit import check_message, check_view

JSON_METHODS = {"chat.postMessage", "chat.postEphemeral", "chat.update", "views.open", "views.publish",
                "views.update", "views.push", "assistant.threads.setStatus", "assistant.threads.setSuggestedPrompts"}
POST_OVERRIDE = {"views.open", "views.publish", "views.update", "views.push"}
STRUCTURED = {"blocks", "view", "attachments"}


def _p(kind: str, required: bool = False) -> dict[str, Any]:
    return {"type": kind, "required": required}


HAND_WRITTEN: dict[str, dict[str, Any]] = {
    "apps.connections.open": {"verb": "post", "params": {}, "token": "xapp-"},
    # --- the assistant panel (Agents & AI Apps): methods newer than the 2020 OpenAPI document ---------
    # docs.slack.dev/reference/methods/assistant.threads.setStatus: POST (form or JSON), bot token;
    # required channel_id, thread_ts, status ("" clears it); optional loading_messages (array, ≤ 10),
    # icon_emoji, icon_url, username. slack_sdk 3.48 sends it as JSON.
    "assistant.threads.setStatus": {"verb": "post", "token": "xoxb-", "params": {
        "channel_id": _p("string", True), "thread_ts": _p("string", True), "status": _p("string", True),
        "loading_messages": _p("array"), "icon_emoji": _p("string"), "icon_url": _p("string"),
        "username": _p("string")}},
    # docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts: POST, bot token; required
    # channel_id and prompts (up to four, each with title and message); optional title. thread_ts is
    # optional on the page only for the newer "agent_view" apps; an assistant_view app (ours) must name
    # the thread, so it is required here. slack_sdk 3.48 sends it as JSON.
    "assistant.threads.setSuggestedPrompts": {"verb": "post", "token": "xoxb-", "params": {
        "channel_id": _p("string", True), "thread_ts": _p("string", True), "prompts": _p("array", True),
        "title": _p("string")}},
    # docs.slack.dev/reference/methods/assistant.threads.setTitle: POST, bot token; required channel_id,
    # thread_ts and title. slack_sdk 3.48 sends it as form fields.
    "assistant.threads.setTitle": {"verb": "post", "token": "xoxb-", "params": {
        "channel_id": _p("string", True), "thread_ts": _p("string", True), "title": _p("string", True)}},
}
# Arguments newer than the 2020 document on methods it has (tests/slack/OVERRIDES.md):
# docs.slack.dev/reference/methods/chat.postMessage `metadata` (a JSON object with event_type and
# event_payload; docs.slack.dev/messaging/message-metadata), and conversations.history / .replies
# `include_all_metadata` (boolean: return each message's metadata).
EXTRA_PARAMS: dict[str, dict[str, dict[str, Any]]] = {
    "chat.postMessage": {"metadata": _p("metadata")},
    "conversations.history": {"include_all_metadata": _p("boolean")},
    "conversations.replies": {"include_all_metadata": _p("boolean")},
}
MAX_PROMPTS = 4          # setSuggestedPrompts: "up to four suggested prompts"
MAX_LOADING_MESSAGES = 10  # setStatus: "Maximum of 10 messages"


def _array(value: Any) -> Any:
    """An array argument: a JSON body carries a list, a form field carries it as JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _assistant_checks(method: str, args: dict[str, Any]) -> list[str]:
    """What the assistant methods' pages say beyond the argument types."""
    problems = []
    for name in ("channel_id", "thread_ts", "title"):
        if name in args and not str(args[name]).strip() and not (name == "title" and method.endswith("Prompts")):
            problems.append(f"{method}: {name} is empty")
    if method == "assistant.threads.setSuggestedPrompts" and "prompts" in args:
        prompts = _array(args["prompts"])
        if not isinstance(prompts, list) or not 1 <= len(prompts) <= MAX_PROMPTS:
            problems.append(f"{method}: prompts must be a list of 1..{MAX_PROMPTS}")
        else:
            for i, prompt in enumerate(prompts):
                if not isinstance(prompt, dict) or not all(isinstance(prompt.get(k), str) and prompt[k].strip()
                                                           for k in ("title", "message")):
                    problems.append(f"{method}: prompts[{i}] needs a title and a message")
    if method == "assistant.threads.setStatus" and "loading_messages" in args:
        loading = _array(args["loading_messages"])
        if not isinstance(loading, list) or len(loading) > MAX_LOADING_MESSAGES \
                or not all(isinstance(m, str) for m in loading):
            problems.append(f"{method}: loading_messages must be at most {MAX_LOADING_MESSAGES} strings")
    return problems


@dataclass
class Call:
    method: str
    verb: str
    args: dict[str, Any]
    token: str | None
    at: float
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=2)
def load_spec(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def _lenient(schema: Any) -> Any:
    """Drop ``additionalProperties: false`` and id ``pattern``s (responses are validated leniently:
    the shared example payloads use short ids such as C111 that the 2020 patterns reject)."""
    if isinstance(schema, dict):
        return {k: _lenient(v) for k, v in schema.items()  # minItems: an empty history is a real answer
                if not (k == "additionalProperties" and v is False) and k not in ("pattern", "minItems")}
    if isinstance(schema, list):
        return [_lenient(v) for v in schema]
    return schema


class SpecValidator:
    """Checks one Web API call against the spec plus the override layer."""

    def __init__(self, spec_path: Path) -> None:
        self.spec = load_spec(str(spec_path))
        self.definitions = _lenient(self.spec["definitions"])

    def operation(self, method: str) -> tuple[set[str], dict[str, dict[str, Any]], str]:
        """(allowed verbs, params by name without token, token prefix)."""
        if method in HAND_WRITTEN:
            hw = HAND_WRITTEN[method]
            return {hw["verb"]}, hw["params"], hw["token"]
        ops = self.spec["paths"].get(f"/{method}")
        if ops is None:
            raise KeyError(method)
        verb, op = next(iter(ops.items()))
        params = {p["name"]: p for p in op.get("parameters", []) if p["name"] != "token"}
        params.setdefault("team_id", {"name": "team_id", "type": "string", "required": False})
        params.update(EXTRA_PARAMS.get(method, {}))
        verbs = {"post"} if method in POST_OVERRIDE else {verb, "post"}
        no_token = method.startswith("oauth.") and any(  # auth.test also says "none", but needs a token
            "none" in (scheme.get("slackAuth") or []) for scheme in op.get("security", []))
        return verbs, params, "basic:" if no_token else "xox"

    def check_request(self, method: str, verb: str, args: dict[str, Any], token: str | None,
                      json_body: bool) -> list[str]:
        try:
            verbs, params, prefix = self.operation(method)
        except KeyError:
            return [f"unknown method {method}"]
        problems = []
        if verb not in verbs:
            problems.append(f"{method}: HTTP {verb.upper()} not allowed ({', '.join(sorted(verbs))})")
        if json_body and method not in JSON_METHODS:
            problems.append(f"{method}: JSON body not accepted (send form fields)")
        if prefix == "basic:":  # client credentials instead of a token
            if not (token or "").startswith(prefix) and not {"client_id", "client_secret"} <= set(args):
                problems.append(f"{method}: client credentials missing (HTTP Basic or client_id + client_secret)")
        elif not token or not token.startswith(prefix):
            problems.append(f"{method}: missing or wrong token (needs {prefix}…)")
        for name, value in args.items():
            param = params.get(name)
            if param is None:
                problems.append(f"{method}: unknown argument {name!r}")
                continue
            problems += self._check_type(method, name, value, param, json_body)
        for name, param in params.items():
            if param.get("required") and name not in args:
                problems.append(f"{method}: missing required argument {name!r}")
        if method.startswith("assistant.threads."):
            problems += _assistant_checks(method, args)
        return problems

    @staticmethod
    def _check_type(method: str, name: str, value: Any, param: dict[str, Any], json_body: bool) -> list[str]:
        kind = param.get("type", "string")
        bad = f"{method}: argument {name!r} should be {kind}, got {value!r}"[:300]
        if name in STRUCTURED:
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    return [f"{method}: {name} is not valid JSON"]
            return [] if isinstance(value, (list, dict)) else [bad]
        if kind == "boolean":
            ok = isinstance(value, bool) if json_body else str(value) in ("true", "false", "1", "0")
            return [] if ok else [bad]
        if kind == "integer":
            ok = isinstance(value, int) if json_body else str(value).lstrip("-").isdigit()
            return [] if ok else [bad]
        if kind == "string":
            return [] if isinstance(value, str) else [bad]
        if kind == "array":
            return [] if isinstance(_array(value), list) else [bad]
        if kind == "metadata":  # {"event_type": "a_name", "event_payload": {...}} (JSON text in a form)
            value = _array(value) if isinstance(value, str) else value
            ok = (isinstance(value, dict) and isinstance(value.get("event_type"), str) and value["event_type"]
                  and isinstance(value.get("event_payload"), dict))
            return [] if ok else [bad]
        return []

    def check_response(self, method: str, status: str, body: dict[str, Any]) -> list[str]:
        ops = self.spec["paths"].get(f"/{method}")
        if ops is None:
            return []
        op = next(iter(ops.values()))
        resp = op["responses"].get(status)
        if not resp or "schema" not in resp:
            return []
        schema = {**_lenient(resp["schema"]), "definitions": self.definitions}
        errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(body), key=str)
        return [f"{method} response: {e.message[:200]} at {list(e.absolute_path)}" for e in errors[:3]]


class FakeSlack:
    """The fake's state: users, recorded calls, contract violations and scripted failures."""

    BOT_USER = "UBOTHELP1"
    BOT_ID = "BBOTHELP1"
    TEAM = "T111"

    def __init__(self, spec_path: Path) -> None:
        self.validator = SpecValidator(spec_path)
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) → message (conversations.replies)
        self.posted: dict[str, list[dict[str, Any]]] = {}  # channel → chat.postMessage messages (history)
        self.socket_url: str | None = None
        self.oauth_grants: dict[str, dict[str, Any]] = {}  # oauth.v2.access: code → answer (used once)
        self.members: dict[str, list[str]] = {}  # conversations.members / usergroups.users.list (triage, S2)
        self._failures: dict[str, list[tuple[int, str | None, float]]] = {}
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="fake-slack")

    # --- lifecycle / test helpers ------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.violations.clear()
            self._failures.clear()

    def add_user(self, user_id: str, email: str | None, name: str = "Test User", *, is_bot: bool = False) -> None:
        self.users[user_id] = {"email": email, "name": name, "is_bot": is_bot}

    def add_message(self, channel: str, ts: str, user: str, text: str) -> None:
        """A message that is in a channel (what conversations.replies returns for it)."""
        self.messages[(channel, ts)] = {"type": "message", "user": user, "text": text, "ts": ts}

    @staticmethod
    def permalink_of(channel: str, ts: str) -> str:
        """The permalink chat.getPermalink returns (Slack's archives/<channel>/p<ts without the dot> form)."""
        return f"https://example.slack.com/archives/{channel}/p{ts.replace('.', '')}"

    def fail_next(self, method: str, *, status: int = 429, error: str | None = None,
                  retry_after: float = 1, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer HTTP 429 (Retry-After) or ``ok:false, error``."""
        if error is not None:
            status = 200
        with self._lock:
            self._failures.setdefault(method, []).extend([(status, error, retry_after)] * times)

    @staticmethod
    def dm_of(user_id: str) -> str:
        """The DM channel id conversations.open returns for a user (9+ chars, as the spec demands)."""
        return "D" + user_id[1:].rjust(8, "0")

    def calls_to(self, method: str, *, ok_only: bool = False) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (not ok_only or c.response.get("ok"))]

    # --- the API ----------------------------------------------------------------
    def handle(self, method: str, verb: str, args: dict[str, Any], token: str | None,
               json_body: bool, malformed: str | None) -> tuple[int, dict[str, str], dict[str, Any]]:
        call = Call(method=method, verb=verb, args=args, token=token, at=time.monotonic())
        with self._lock:
            self.calls.append(call)
        problems = [malformed] if malformed else self.validator.check_request(method, verb, args, token, json_body)
        if not problems:
            problems = self._block_kit(method, args)
        if problems:
            with self._lock:
                self.violations.extend(problems)
            call.status, call.response = 400, {"ok": False, "error": "invalid_arguments"}
            status = 404 if any(p.startswith("unknown method") for p in problems) else 400
            return status, {}, call.response
        with self._lock:
            queue = self._failures.get(method) or []
            scripted = queue.pop(0) if queue else None
        if scripted is not None:
            status, error, retry_after = scripted
            if status == 429:
                call.status, call.response = 429, {"ok": False, "error": "ratelimited"}
                wait = str(int(retry_after) if float(retry_after).is_integer() else retry_after)
                return 429, {"Retry-After": wait}, call.response
            call.response = {"ok": False, "error": error or "internal_error"}
            return 200, {}, call.response
        body = self._answer(method, args)
        problems = self.validator.check_response(method, "200" if body.get("ok") else "default", body)
        if problems:
            with self._lock:
                self.violations.extend(f"fake bug: {p}" for p in problems)
        call.response = body
        return 200, {}, body

    @staticmethod
    def _parsed(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    def _block_kit(self, method: str, args: dict[str, Any]) -> list[str]:
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            parsed = dict(args)
            if "blocks" in parsed:
                parsed["blocks"] = self._parsed(parsed["blocks"])
            return [f"{method}: {p}" for p in check_message(parsed)]
        if method.startswith("views.") and "view" in args:
            return [f"{method}: {p}" for p in check_view(self._parsed(args["view"]))]
        return []

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://example.slack.com/", "team": "Example", "user": "helpdesk",
                    "team_id": self.TEAM, "user_id": self.BOT_USER, "bot_id": self.BOT_ID,
                    "is_enterprise_install": False}
        if method == "users.info":
            uid = str(args.get("user"))
            known = self.users.get(uid)
            if known is None:
                return {"ok": False, "error": "user_not_found"}
            profile = {"real_name": known["name"], "display_name": known["name"], "team": self.TEAM}
            if known["email"]:
                profile["email"] = known["email"]
            return {"ok": True, "user": {"id": uid, "team_id": self.TEAM, "name": known["name"].lower(),
                                         "real_name": known["name"], "is_bot": known["is_bot"],
                                         "deleted": False, "profile": profile}}
        if method == "conversations.open":
            user = str(args.get("users") or "").split(",")[0]
            return {"ok": True, "channel": {"id": self.dm_of(user), "created": 0, "is_im": True,
                                            "is_open": True, "user": user}}
        if method == "chat.update":  # the spec's success schema also requires a top-level text
            return {"ok": True, "channel": args["channel"], "ts": str(args["ts"]), "text": args.get("text", ""),
                    "message": {"type": "message", "text": args.get("text", ""), "user": self.BOT_USER}}
        if method in ("conversations.members", "usergroups.users.list"):
            found = self.members.get(str(args.get("channel") or args.get("usergroup")), [])
            return ({"ok": True, "members": found, "response_metadata": {"next_cursor": ""}}
                    if method == "conversations.members" else {"ok": True, "users": found})
        if method in ("chat.postMessage", "chat.update"):
            ts = str(args.get("ts") or self._next_ts())
            message = {"type": "message", "text": args.get("text", ""), "ts": ts, "user": self.BOT_USER,
                       "bot_id": self.BOT_ID}
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            if method == "chat.postMessage":
                self._keep(str(args["channel"]), message, args)
            return {"ok": True, "channel": args["channel"], "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method.startswith("views."):
            view = self._parsed(args.get("view"))
            return {"ok": True, "view": {"id": "V" + str(next(self._ts)), "team_id": self.TEAM,
                                         "type": view.get("type"), "blocks": view.get("blocks", [])}}
        if method == "oauth.v2.access":
            with self._lock:
                granted = self.oauth_grants.pop(str(args.get("code")), None)
            return granted or {"ok": False, "error": "invalid_code"}
        if method == "chat.getPermalink":
            channel, ts = str(args.get("channel")), str(args.get("message_ts"))
            return {"ok": True, "channel": channel, "permalink": self.permalink_of(channel, ts)}
        if method == "conversations.history":
            return {"ok": True, "messages": self._read(args, thread_ts=None), "has_more": False, "pin_count": 0,
                    "channel_actions_ts": None, "channel_actions_count": 0}
        if method == "conversations.replies":
            channel, ts = str(args.get("channel")), str(args.get("ts"))
            stored = self.messages.get((channel, ts))
            if stored is None:
                stored = next((m for m in self.posted.get(channel, []) if m["ts"] == ts), None)
            if stored is None:
                return {"ok": False, "error": "thread_not_found"}
            return {"ok": True, "messages": [self._shown(stored, args), *self._read(args, thread_ts=ts)],
                    "has_more": False}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url or "ws://127.0.0.1:9/"}
        return {"ok": True}

    def _keep(self, channel: str, message: dict[str, Any], args: dict[str, Any]) -> None:
        """Remember a posted message (with its metadata) for conversations.history / .replies."""
        kept = dict(message)
        if args.get("metadata"):
            kept["metadata"] = _array(args["metadata"]) if isinstance(args["metadata"], str) else args["metadata"]
        if args.get("reply_broadcast") in (True, "true", "1"):
            kept["subtype"] = "thread_broadcast"
        with self._lock:
            self.posted.setdefault(channel, []).append(kept)

    @staticmethod
    def _shown(message: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        shown = dict(message)
        if str(args.get("include_all_metadata")) not in ("1", "true", "True"):
            shown.pop("metadata", None)  # Slack returns metadata only when asked
        return shown

    def _read(self, args: dict[str, Any], *, thread_ts: str | None) -> list[dict[str, Any]]:
        """Posted messages of a channel (top level, or one thread's replies) after ``oldest``, newest first."""
        oldest = float(args.get("oldest") or 0)
        with self._lock:
            kept = list(self.posted.get(str(args.get("channel")), []))
        if thread_ts is None:
            found = [m for m in kept if "thread_ts" not in m or m.get("subtype") == "thread_broadcast"]
        else:
            found = [m for m in kept if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]
        found = [self._shown(m, args) for m in found if float(m["ts"]) > oldest]
        if thread_ts is None:
            found.reverse()  # history is newest first, a thread oldest first
        return found[:int(args.get("limit") or 100)]

    def hook(self, path: str, body: dict[str, Any]) -> None:
        """A response_url POST (hooks.slack.com), recorded as method ``response_url``."""
        problems = check_message(body) if body.get("blocks") or body.get("text") else ["empty response_url post"]
        with self._lock:
            self.calls.append(Call(method="response_url", verb="post", args=body, token=None,
                                   at=time.monotonic(), response={"ok": True, "path": path}))
            self.violations.extend(f"response_url: {p}" for p in problems)


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _token(self, query: dict[str, Any]) -> str | None:
            auth = self.headers.get("Authorization") or ""
            if auth.startswith("Bearer "):
                return auth[len("Bearer "):]
            if auth.startswith("Basic "):  # oauth.v2.access: client_id:client_secret
                return "basic:" + base64.b64decode(auth[len("Basic "):]).decode().split(":", 1)[0]
            return query.pop("token", None)

        def _respond(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def _dispatch(self, verb: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if url.path.startswith("/hooks/"):
                fake.hook(url.path, json.loads(raw or b"{}"))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                return
            method = url.path.removeprefix("/api/")
            args: dict[str, Any] = dict(query)
            malformed = None
            json_body = False
            if raw:
                if ctype == "application/json":
                    json_body = True
                    try:
                        body = json.loads(raw)
                        if not isinstance(body, dict):
                            raise ValueError("not an object")
                        args.update(body)
                    except ValueError as exc:
                        malformed = f"{method}: malformed JSON body ({exc})"
                elif ctype == "application/x-www-form-urlencoded":
                    args.update(dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True)))
                else:
                    malformed = f"{method}: unsupported Content-Type {ctype!r}"
            token = self._token(args)
            status, headers, body = fake.handle(method, verb, args, token, json_body, malformed)
            self._respond(status, headers, body)

        def do_POST(self) -> None:
            self._dispatch("post")

        def do_GET(self) -> None:
            self._dispatch("get")

    return Handler


def deepcopy_payload(payload: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(payload)
