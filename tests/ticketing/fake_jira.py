"""A fake Jira on 127.0.0.1 that checks every request against Atlassian's OpenAPI document.

The real ``jira`` client is pointed at it. Each request is mapped from REST v2
(what the client sends) to v3 (what the document describes: ``/rest/api/2/`` →
``/rest/api/3/``, see ../shared/specs/PROVENANCE.md), matched to an operation,
and its query parameters and JSON body are validated (jsonschema, resolving the
document's ``$ref``s). A request the spec would reject is answered 400 and
recorded in ``violations`` — tests assert that list stays empty.

Documented overrides (where the Cloud v3 document cannot describe what real
Jira accepts):

* Server/Data Center authenticates with ``Authorization: Bearer <PAT>``; the Cloud
  document only declares basic auth and OAuth2.
* ``GET user/search``: ``includeActive`` / ``includeInactive`` are REST v2 (Server)
  parameters the client always sends; Cloud ignores them.

It keeps issues, comments and users in memory, answers the client's start-up
calls (``serverInfo``, ``field``), and can be told to fail: HTTP 500, 429 (with
Retry-After), time out, or time out *after* creating the issue (the answer is lost).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SPEC_URI = "urn:jira-platform-v3"
EXTRA_QUERY = {("get", "/rest/api/3/user/search"): {"includeActive", "includeInactive"}}
STATUS = {
    "new": {"name": "To Do", "statusCategory": {"id": 2, "key": "new", "name": "To Do"}},
    "indeterminate": {"name": "In Progress",
                      "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress"}},
    "done": {"name": "Done", "statusCategory": {"id": 3, "key": "done", "name": "Done"}},
}
TRANSITIONS = {"11": ("To Do", "new"), "21": ("In Progress", "indeterminate"), "31": ("Done", "done")}
FIELDS = [
    {"id": "summary", "name": "Summary", "custom": False, "clauseNames": ["summary"]},
    {"id": "status", "name": "Status", "custom": False, "clauseNames": ["status"]},
    {"id": "assignee", "name": "Assignee", "custom": False, "clauseNames": ["assignee"]},
    {"id": "reporter", "name": "Reporter", "custom": False, "clauseNames": ["reporter"]},
    {"id": "updated", "name": "Updated", "custom": False, "clauseNames": ["updated", "updatedDate"]},
    {"id": "resolution", "name": "Resolution", "custom": False, "clauseNames": ["resolution"]},
    {"id": "labels", "name": "Labels", "custom": False, "clauseNames": ["labels"]},
    {"id": "priority", "name": "Priority", "custom": False, "clauseNames": ["priority"]},
    {"id": "components", "name": "Component/s", "custom": False, "clauseNames": ["component"]},
    {"id": "description", "name": "Description", "custom": False, "clauseNames": ["description"]},
]


class SpecIndex:
    """The operations of the OpenAPI document, matchable by method and path."""

    _cache: dict[str, SpecIndex] = {}

    def __init__(self, path: Path) -> None:
        self.spec = json.loads(path.read_text())
        self.registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(self.spec, default_specification=DRAFT7))
        self.ops: list[tuple[str, re.Pattern[str], str, dict[str, Any]]] = []
        for template, item in self.spec["paths"].items():
            regex = re.compile("^" + re.sub(r"\\{[^}]+\\}", r"[^/]+", re.escape(template)) + "$")
            for method, op in item.items():
                if method in ("get", "post", "put", "delete", "patch"):
                    self.ops.append((method, regex, template, op))
        # literal paths before templated ones (issue/createmeta before issue/{key})
        self.ops.sort(key=lambda o: (o[2].count("{"), -len(o[2])))

    @classmethod
    def load(cls, path: Path) -> SpecIndex:
        if str(path) not in cls._cache:
            cls._cache[str(path)] = cls(path)
        return cls._cache[str(path)]

    def match(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for m, regex, template, op in self.ops:
            if m == method and regex.match(path):
                return template, op
        return None

    def validate(self, method: str, path: str, query: dict[str, list[str]], body: bytes,
                 content_type: str) -> list[str]:
        """Problems with the request, according to the document (empty list: valid)."""
        found = self.match(method, path)
        if found is None:
            return [f"{method.upper()} {path}: no such operation in the spec"]
        template, op = found
        problems = []
        if op.get("deprecated"):
            pass  # still served by Jira; the client uses /search on Server/DC
        params = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "query"}
        allowed = set(params) | EXTRA_QUERY.get((method, template), set())
        for name, values in query.items():
            if name not in allowed:
                problems.append(f"{method.upper()} {template}: unknown query parameter {name!r}")
                continue
            schema = (params.get(name) or {}).get("schema") or {}
            kind = schema.get("type")
            for value in values:
                if kind == "integer" and not re.fullmatch(r"-?\d+", value):
                    problems.append(f"{template}: {name}={value!r} is not an integer")
                if kind == "boolean" and value.lower() not in ("true", "false"):
                    problems.append(f"{template}: {name}={value!r} is not a boolean")
            if kind not in ("array", None) and len(values) > 1:
                problems.append(f"{template}: {name} given {len(values)} times")
        for name, p in params.items():
            if p.get("required") and name not in query:
                problems.append(f"{template}: required query parameter {name!r} missing")
        rb = op.get("requestBody")
        if rb is not None:
            if not body:
                if rb.get("required"):
                    problems.append(f"{method.upper()} {template}: request body required")
                return problems
            if "application/json" not in content_type:
                problems.append(f"{template}: Content-Type {content_type!r} is not application/json")
            try:
                data = json.loads(body)
            except ValueError:
                return problems + [f"{template}: body is not JSON"]
            schema = (rb.get("content", {}).get("application/json") or {}).get("schema")
            if schema is not None:
                ref = schema.get("$ref", "")
                wrapped = {"$ref": SPEC_URI + ref} if ref.startswith("#") else schema
                validator = jsonschema.Draft7Validator(wrapped, registry=self.registry)
                for err in validator.iter_errors(data):
                    where = "/".join(str(p) for p in err.absolute_path) or "(body)"
                    problems.append(f"{method.upper()} {template}: {where}: {err.message[:200]}")
        elif body and method in ("get", "delete"):
            problems.append(f"{method.upper()} {template}: unexpected request body")
        return problems


@dataclass
class FakeUser:
    email: str
    display_name: str
    account_id: str
    name: str

    def raw(self, base: str) -> dict[str, Any]:
        return {"self": f"{base}/rest/api/2/user?accountId={self.account_id}", "accountId": self.account_id,
                "name": self.name, "key": self.name, "emailAddress": self.email,
                "displayName": self.display_name, "active": True, "accountType": "atlassian"}


@dataclass
class FakeJiraState:
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    users: list[FakeUser] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    create_calls: int = 0
    next_id: int = 10000
    counters: dict[str, int] = field(default_factory=dict)
    fail_mode: str | None = None  # "500" | "429" | "timeout" | "lost_response" (POSTs only)
    fail_remaining: int | None = None  # None: until cleared
    delay_seconds: float = 2.0


class FakeJira:
    """Start with ``FakeJira(spec_path, deployment="cloud"|"server").start()``; ``url`` is its base."""

    def __init__(self, spec_path: Path, *, deployment: str = "cloud", email: str = "bot@example.com",
                 api_token: str = "cloud-api-token-123", pat: str = "server-pat-456") -> None:
        self.spec = SpecIndex.load(spec_path)
        self.deployment = deployment
        self.email, self.api_token, self.pat = email, api_token, pat
        self.state = FakeJiraState()
        self.projects = {"IT", "NET"}
        self.lock = threading.RLock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.down = False
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- control ------------------------------------------------------------
    def start(self) -> FakeJira:
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self.down:
            self.server.shutdown()
            self.server.server_close()
            self.down = True

    def go_down(self) -> None:
        """Stop listening: connections to the port are refused until :meth:`come_back`."""
        self.stop()

    def come_back(self) -> None:
        """Listen again on the same port (the state is kept)."""
        if self.down:
            self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
            self.server.daemon_threads = True
            self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
            self.down = False
            self._thread.start()

    def add_user(self, email: str, display_name: str) -> FakeUser:
        n = len(self.state.users) + 1
        user = FakeUser(email=email, display_name=display_name, account_id=f"5f{n:022d}",
                        name=email.split("@")[0])
        self.state.users.append(user)
        return user

    def fail(self, mode: str | None, *, times: int | None = None, delay: float | None = None) -> None:
        """Fail the next ``times`` requests (None: until ``fail(None)``) with ``mode``."""
        with self.lock:
            self.state.fail_mode, self.state.fail_remaining = mode, times
            if delay is not None:
                self.state.delay_seconds = delay

    def set_status(self, key: str, category: str, *, assignee: str | None = None) -> dict[str, Any]:
        with self.lock:
            issue = self.state.issues[key]
            issue["fields"]["status"] = dict(STATUS[category])
            issue["fields"]["resolution"] = {"id": "10000", "name": "Done"} if category == "done" else None
            if assignee:
                user = self._user_by_email(assignee)
                issue["fields"]["assignee"] = user.raw(self.url) if user else {"displayName": assignee}
            issue["fields"]["updated"] = _now()
            return issue

    def issues_with_label(self, label: str) -> list[dict[str, Any]]:
        return [i for i in self.state.issues.values() if label in i["fields"].get("labels", [])]

    # --- the HTTP side ---------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _any(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    status, payload, headers = fake.dispatch(method, self.path, dict(self.headers), body)
                except Exception as exc:  # a bug in the fake: make it loud
                    status, payload, headers = 500, {"errorMessages": [f"fake error {exc!r}"]}, {}
                    fake.state.violations.append(f"fake crashed: {exc!r}")
                if status == -1:  # timed out on purpose: drop the connection
                    self.close_connection = True
                    return
                data = b"" if payload is None else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json;charset=UTF-8")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                self._any("get")

            def do_POST(self) -> None:
                self._any("post")

            def do_PUT(self) -> None:
                self._any("put")

            def do_DELETE(self) -> None:
                self._any("delete")

        return Handler

    def _authorised(self, headers: dict[str, str]) -> bool:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if self.deployment == "server":
            return auth == f"Bearer {self.pat}"
        expected = base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode()
        return auth == f"Basic {expected}"

    def dispatch(self, method: str, raw_path: str, headers: dict[str, str],
                 body: bytes) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(raw_path)
        path = parts.path.replace("/rest/api/2/", "/rest/api/3/", 1)
        query = parse_qs(parts.query, keep_blank_values=True)
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        status, payload, extra = self._dispatch(method, path, query, body, headers, ctype)
        with self.lock:
            self.state.requests.append((method.upper(), path, status))
        return status, payload, extra

    def _dispatch(self, method: str, path: str, query: dict[str, list[str]], body: bytes,
                  headers: dict[str, str], ctype: str) -> tuple[int, Any, dict[str, str]]:
        problems = self.spec.validate(method, path, query, body, ctype)
        if problems:
            with self.lock:
                self.state.violations.extend(problems)
            return 400, {"errorMessages": problems, "errors": {}}, {}
        if not self._authorised(headers):
            return 401, {"errorMessages": ["Authentication failed"]}, {}
        mode = None
        with self.lock:
            applies = self.state.fail_mode != "lost_response" or method == "post"
            if applies and self.state.fail_mode and (
                    self.state.fail_remaining is None or self.state.fail_remaining > 0):
                mode = self.state.fail_mode
                if self.state.fail_remaining is not None:
                    self.state.fail_remaining -= 1
        if mode == "500":
            return 500, {"errorMessages": ["Internal server error"]}, {}
        if mode == "429":
            return 429, {"errorMessages": ["Rate limit exceeded"]}, {"Retry-After": "1"}
        if mode == "timeout":
            time.sleep(self.state.delay_seconds)
            return -1, None, {}
        status, payload = self._route(method, path, query, body)
        if mode == "lost_response":  # the work is done, but the answer never arrives
            time.sleep(self.state.delay_seconds)
            return -1, None, {}
        return status, payload, {}

    # --- resources ------------------------------------------------------------
    def _route(self, method: str, path: str, query: dict[str, list[str]],
               body: bytes) -> tuple[int, Any]:
        data = json.loads(body) if body else {}
        p = path.removeprefix("/rest/api/3/")
        if method == "get" and p == "serverInfo":
            cloud = self.deployment == "cloud"
            return 200, {"baseUrl": self.url, "version": "1001.0.0" if cloud else "9.12.2",
                         "versionNumbers": [1001, 0, 0] if cloud else [9, 12, 2],
                         "deploymentType": "Cloud" if cloud else "Server", "buildNumber": 100000,
                         "serverTitle": "Fake Jira"}
        if method == "get" and p == "field":
            return 200, FIELDS
        if method == "get" and p == "myself":
            return 200, {"accountId": "bot", "emailAddress": self.email, "displayName": "Helpdesk bot"}
        if method == "post" and p == "issue":
            return self._create(data)
        if method == "get" and p in ("search", "search/jql"):
            return self._search(query, token=p == "search/jql")
        if method == "get" and p == "user/search":
            term = (query.get("query") or query.get("username") or [""])[0].lower()
            users = [u.raw(self.url) for u in self.state.users
                     if term and (term in u.email.lower() or term == u.name.lower())]
            return 200, users
        if method == "post" and p == "issueLink":
            keys = [(data.get(side) or {}).get("key") for side in ("inwardIssue", "outwardIssue")]
            if any(self._issue(str(k)) is None for k in keys):
                return 404, {"errorMessages": ["Issue does not exist"], "errors": {}}
            with self.lock:
                self.state.links.append({"type": (data.get("type") or {}).get("name"),
                                         "inward": keys[0], "outward": keys[1]})
            return 201, None
        m = re.fullmatch(r"issue/([^/]+)(/comment|/transitions)?", p)
        if m:
            issue = self._issue(m.group(1))
            if issue is None:
                return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."],
                             "errors": {}}
            key = issue["key"]
            if m.group(2) is None and method == "get":
                return 200, issue
            if m.group(2) is None and method == "put":
                with self.lock:
                    issue["fields"].update(data.get("fields") or {})
                    issue["fields"]["updated"] = _now()
                return 204, None
            if m.group(2) == "/comment":
                if method == "get":
                    comments = self.state.comments.get(key, [])
                    return 200, {"startAt": 0, "maxResults": 50, "total": len(comments), "comments": comments}
                comment = self.add_comment(key, data.get("body"), author=None)
                for extra in ("properties", "visibility"):
                    if extra in data:
                        comment[extra] = data[extra]
                return 201, comment
            if m.group(2) == "/transitions":
                if method == "get":
                    return 200, {"transitions": [
                        {"id": tid, "name": name, "to": STATUS[cat], "isAvailable": True}
                        for tid, (name, cat) in TRANSITIONS.items()]}
                tid = str((data.get("transition") or {}).get("id"))
                if tid not in TRANSITIONS:
                    return 400, {"errorMessages": [f"Transition id '{tid}' is not valid for this issue."]}
                self.set_status(key, TRANSITIONS[tid][1])
                return 204, None
        return 404, {"errorMessages": [f"the fake does not implement {method.upper()} {path}"]}

    def _issue(self, key_or_id: str) -> dict[str, Any] | None:
        with self.lock:
            if key_or_id in self.state.issues:
                return self.state.issues[key_or_id]
            return next((i for i in self.state.issues.values() if i["id"] == key_or_id), None)

    def _user_by_email(self, email: str) -> FakeUser | None:
        return next((u for u in self.state.users if u.email.lower() == email.lower()), None)

    def _user_by_ref(self, ref: dict[str, Any]) -> FakeUser | None:
        for u in self.state.users:
            if ref.get("accountId") == u.account_id or ref.get("name") == u.name:
                return u
        return None

    def _create(self, data: dict[str, Any]) -> tuple[int, Any]:
        f = data.get("fields") or {}
        errors: dict[str, str] = {}
        if (f.get("project") or {}).get("key") not in self.projects:
            errors["project"] = "Specify a valid project ID or key"
        if not f.get("summary"):
            errors["summary"] = "You must specify a summary of the issue."
        if not (f.get("issuetype") or {}).get("name") and not (f.get("issuetype") or {}).get("id"):
            errors["issuetype"] = "Specify an issue type"
        reporter = None
        if "reporter" in f:
            reporter = self._user_by_ref(f["reporter"] or {})
            if reporter is None:
                errors["reporter"] = "Specify a valid value for reporter"
        if self.deployment == "cloud" and f.get("reporter") and "name" in f["reporter"]:
            errors["reporter"] = "Cloud identifies users by accountId"
        if errors:
            return 400, {"errorMessages": [], "errors": errors}
        with self.lock:
            project = f["project"].get("key") or "IT"
            n = self.state.counters.get(project, 0) + 1
            self.state.counters[project] = n
            self.state.next_id += 1
            self.state.create_calls += 1
            key, issue_id = f"{project}-{n}", str(self.state.next_id)
            now = _now()
            self.state.issues[key] = {
                "id": issue_id, "key": key, "self": f"{self.url}/rest/api/2/issue/{issue_id}",
                "fields": {**f, "status": dict(STATUS["new"]), "created": now, "updated": now,
                           "assignee": None, "resolution": None,
                           "reporter": reporter.raw(self.url) if reporter else None},
            }
        return 201, {"id": issue_id, "key": key, "self": f"{self.url}/rest/api/2/issue/{issue_id}"}

    def add_comment(self, key: str, body: Any, *, author: str | None) -> dict[str, Any]:
        with self.lock:
            self.state.next_id += 1
            issue = self.state.issues[key]
            user = {"displayName": author or "Helpdesk bot", "accountId": "it-staff"}
            comment = {"id": str(self.state.next_id),
                       "self": f"{self.url}/rest/api/2/issue/{issue['id']}/comment/{self.state.next_id}",
                       "body": body, "author": user, "updateAuthor": user,
                       "created": _now(), "updated": _now()}
            self.state.comments.setdefault(key, []).append(comment)
            issue["fields"]["updated"] = _now()
            return comment

    def _search(self, query: dict[str, list[str]], *, token: bool) -> tuple[int, Any]:
        jql = (query.get("jql") or [""])[0]
        try:
            matches = self._jql(jql)
        except ValueError as exc:
            return 400, {"errorMessages": [str(exc)], "errors": {}}
        limit = int((query.get("maxResults") or ["50"])[0])
        page = matches[:limit]
        if token:
            return 200, {"issues": page, "isLast": True}
        return 200, {"startAt": 0, "maxResults": limit, "total": len(matches), "issues": page}

    def _jql(self, jql: str) -> list[dict[str, Any]]:
        """The small JQL subset the bot uses: AND of labels/reporter/project/key in/statusCategory."""
        where = re.split(r"\s+ORDER\s+BY\s+", jql, flags=re.I)[0].strip()
        issues = list(self.state.issues.values())
        for clause in filter(None, re.split(r"\s+AND\s+", where, flags=re.I)):
            m = re.fullmatch(r'\s*(\w+)\s*(=|!=|in)\s*(?:"([^"]*)"|\(([^)]*)\)|(\S+))\s*', clause, re.I)
            if not m:
                raise ValueError(f"Error in the JQL Query: {clause!r}")
            fieldname, op, value = m.group(1).lower(), m.group(2).lower(), m.group(3) or m.group(5) or ""
            if fieldname == "labels":
                issues = [i for i in issues if value in i["fields"].get("labels", [])]
            elif fieldname == "reporter":
                issues = [i for i in issues if (i["fields"].get("reporter") or {}).get("accountId") == value
                          or (i["fields"].get("reporter") or {}).get("name") == value]
            elif fieldname == "project":
                issues = [i for i in issues if i["key"].split("-")[0] == value]
            elif fieldname == "key" and op == "in":
                keys = {k.strip().strip('"') for k in (m.group(4) or "").split(",")}
                issues = [i for i in issues if i["key"] in keys]
            elif fieldname == "statuscategory":
                done = value.lower() == "done"
                keep = (op == "=") == done
                issues = [i for i in issues if (i["fields"]["status"]["statusCategory"]["key"] == "done") == keep]
            else:
                raise ValueError(f"Field '{fieldname}' is not supported by the fake")
        return sorted(issues, key=lambda i: i["fields"]["updated"], reverse=True)


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}+0000"
