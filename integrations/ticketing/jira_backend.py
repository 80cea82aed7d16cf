"""Jira backend (Cloud: e-mail + API token, basic auth; Server/Data Center: PAT, bearer).

Calls go through the ``jira`` library. The client is built lazily (its constructor
already calls ``serverInfo``), so an unreachable Jira never stops the bot from
starting; escalations wait in the outbox meanwhile. Every library/HTTP error is
translated into ``TrackerError`` (a ``TicketingError``) with ``status_code``,
``retryable``, ``retry_after`` and ``field_errors`` set.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from bot.errors import ConfigError
from integrations.ticketing.base import RemoteTicket, TicketDraft, TrackerError
from integrations.ticketing.settings import JiraSettings

log = logging.getLogger(__name__)

ISSUE_FIELDS = "summary,status,assignee,updated,resolution,reporter,labels"
OPTIONAL_FIELDS = ("reporter", "priority", "components")


def parse_jira_time(value: str | None) -> dt.datetime | None:
    """``2019-02-16T03:11:18.165+0000`` → naive UTC datetime."""
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            parsed = dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return None


def _retry_after(response: Any) -> float | None:
    try:
        return float(response.headers.get("Retry-After"))
    except (AttributeError, TypeError, ValueError):
        return None


@contextmanager
def map_jira_errors(what: str) -> Iterator[None]:
    """Translate jira/requests exceptions into TrackerError (user-safe, secret-free)."""
    import requests
    from jira.exceptions import JIRAError

    try:
        yield
    except JIRAError as exc:
        status = exc.status_code
        raise TrackerError(
            detail=f"{what}: Jira answered HTTP {status}: {str(exc.text)[:300]}", status_code=status,
            retryable=status is None or status == 429 or status >= 500 or status in (401, 403, 408),
            retry_after=_retry_after(exc.response), field_errors=_field_errors(exc)) from None
    except requests.RequestException as exc:
        raise TrackerError(detail=f"{what}: {type(exc).__name__}") from None


def _field_errors(exc: Any) -> dict[str, str]:
    try:
        return dict(exc.response.json().get("errors") or {})
    except Exception:
        return {}


def _category(fields: dict[str, Any]) -> tuple[str, str]:
    status = fields.get("status") or {}
    key = (status.get("statusCategory") or {}).get("key", "new")
    return status.get("name") or "Open", "done" if key == "done" else "open"


class JiraBackend:
    """Creates, finds and reads Jira issues; tickets are created by the outbox worker."""

    name = "jira"
    immediate = False
    live_lookup = True

    def __init__(self, settings: JiraSettings) -> None:
        if not settings.url:
            raise ConfigError("ticketing.jira.url is required when ticketing.backend = \"jira\".")
        if settings.deployment == "cloud" and (settings.email is None or settings.api_token is None):
            raise ConfigError("Jira Cloud needs ticketing.jira.email and ticketing.jira.api_token "
                              "(or set personal_access_token for Server/Data Center).")
        self.settings = settings
        self.base_url = settings.url.rstrip("/")
        self._client: Any = None
        self._lock = threading.Lock()
        self._user_ids: dict[str, str | None] = {}

    # --- connection -----------------------------------------------------
    @property
    def deployment(self) -> str:
        """``cloud`` or ``server`` (from the credentials configured)."""
        return self.settings.deployment

    @property
    def timeout_seconds(self) -> float:
        """The HTTP time-out of one call to Jira."""
        return self.settings.timeout_seconds

    def client(self) -> Any:
        """The jira.JIRA client, built on first use (it calls serverInfo)."""
        with self._lock:
            if self._client is None:
                from jira import JIRA

                s = self.settings
                kwargs: dict[str, Any] = {}
                if s.personal_access_token is not None:  # Server / Data Center: bearer PAT
                    kwargs["token_auth"] = s.personal_access_token.get_secret_value()
                elif s.api_token is not None:  # Cloud: basic auth with e-mail + API token
                    kwargs["basic_auth"] = (s.email, s.api_token.get_secret_value())
                with map_jira_errors("connect"):
                    self._client = JIRA(server=self.base_url, options={"verify": s.verify_tls},
                                        timeout=s.timeout_seconds, max_retries=0, logging=False,
                                        **kwargs)
            return self._client

    def url_for(self, key: str) -> str | None:
        """The issue's page in Jira."""
        return f"{self.base_url}/browse/{key}"

    def _remote(self, raw: dict[str, Any]) -> RemoteTicket:
        fields = raw.get("fields") or {}
        status, category = _category(fields)
        assignee = (fields.get("assignee") or {}).get("displayName")
        reporter = fields.get("reporter") or {}
        resolution = (fields.get("resolution") or {}).get("name")
        return RemoteTicket(key=raw["key"], summary=fields.get("summary") or "", status=status,
                            status_category=category, assignee=assignee,
                            updated=parse_jira_time(fields.get("updated")), resolution=resolution,
                            url=self.url_for(raw["key"]), remote_id=str(raw.get("id") or "") or None,
                            reporter_email=reporter.get("emailAddress"), raw=raw)

    # --- users ------------------------------------------------------------
    def user_id(self, email: str) -> str | None:
        """accountId (Cloud) or user name (Server) of the Jira user with this e-mail."""
        if email in self._user_ids:
            return self._user_ids[email]
        client = self.client()
        with map_jira_errors("user search"):
            if self.deployment == "cloud":
                users = client.search_users(query=email, maxResults=5)
            else:
                users = client.search_users(user=email, maxResults=5)
        found = None
        for user in users:
            raw = user.raw
            # exact e-mail only: a fuzzy single hit may be someone else (their tickets, their name)
            if (raw.get("emailAddress") or "").strip().lower() == email.strip().lower():
                found = raw.get("accountId") if self.deployment == "cloud" else raw.get("name")
                break
        self._user_ids[email] = found
        return found

    # --- the interface ------------------------------------------------------
    def create(self, draft: TicketDraft, *, session: Session | None = None) -> RemoteTicket:
        """Create the issue (optional fields Jira refuses are dropped on a second try)."""
        fields: dict[str, Any] = {
            "project": {"key": draft.project},
            "issuetype": {"name": draft.issue_type},
            "summary": draft.summary,
            "description": draft.description,
            "labels": draft.labels,
        }
        if draft.priority:
            fields["priority"] = {"name": draft.priority}
        if draft.components:
            fields["components"] = [{"name": c} for c in draft.components]
        if self.settings.set_reporter and draft.requester_email:
            user = self.user_id(draft.requester_email)
            if user:
                fields["reporter"] = {"accountId": user} if self.deployment == "cloud" else {"name": user}
        client = self.client()
        for attempt in (1, 2):
            try:
                with map_jira_errors("create issue"):
                    issue = client.create_issue(fields=fields, prefetch=False)
                break
            except TrackerError as exc:
                dropped = [f for f in OPTIONAL_FIELDS if f in exc.field_errors and f in fields]
                if attempt == 2 or exc.status_code != 400 or not dropped:
                    raise
                log.warning("Jira refused fields %s; creating the issue without them", dropped)
                for name in dropped:
                    fields.pop(name)
        raw = issue.raw
        return RemoteTicket(key=raw["key"], summary=draft.summary, url=self.url_for(raw["key"]),
                            remote_id=str(raw.get("id") or "") or None, status="Open",
                            status_category="open", raw=raw)

    def search(self, jql: str, *, limit: int = 20) -> list[RemoteTicket]:
        """Issues matching ``jql``."""
        client = self.client()
        with map_jira_errors("search"):
            issues = client.search_issues(jql, maxResults=limit, fields=ISSUE_FIELDS)
        return [self._remote(issue.raw) for issue in issues]

    def find_by_idem(self, idem_key: str, *, session: Session | None = None) -> RemoteTicket | None:
        """The issue labelled with this idempotency key (an earlier attempt created it)."""
        found = self.search(f'labels = "{idem_key}"', limit=1)
        return found[0] if found else None

    def get(self, key: str, *, session: Session | None = None) -> RemoteTicket | None:
        """The issue's current state, or None when Jira does not know it."""
        client = self.client()
        try:
            with map_jira_errors("get issue"):
                issue = client.issue(key, fields=ISSUE_FIELDS)
        except TrackerError as exc:
            if exc.status_code == 404:
                return None
            raise
        return self._remote(issue.raw)

    def add_comment(self, key: str, body: str, *, author: str, session: Session | None = None,
                    ref: str | None = None) -> None:
        """Add the employee's words; ``ref`` (shown in the footer) makes retries detectable."""
        client = self.client()
        footer = f"— {author}, via the helpdesk bot" + (f" (ref {ref})" if ref else "")
        with map_jira_errors("add comment"):
            client.add_comment(key, f"{body}\n\n{footer}")

    def has_comment(self, key: str, ref: str, *, session: Session | None = None) -> bool:
        """Whether a comment carrying ``ref`` is already on the issue (an earlier attempt)."""
        return any(f"(ref {ref})" in str(c.get("body") or "") for c in self.comments(key))

    def comments(self, key: str, *, session: Session | None = None) -> list[dict[str, Any]]:
        """The issue's comments as Jira returns them."""
        client = self.client()
        with map_jira_errors("list comments"):
            return [c.raw for c in client.comments(key)]

    def transition(self, key: str, name: str) -> None:
        """Move an issue through the workflow by transition name (e.g. "Done")."""
        client = self.client()
        with map_jira_errors("transition"):
            client.transition_issue(key, name)

    def tickets_of(self, email: str, *, session: Session | None = None) -> list[RemoteTicket]:
        """Issues reported by the Jira user with this e-mail, most recently updated first."""
        user = self.user_id(email)
        if not user:
            return []
        return self.search(f'reporter = "{user}" ORDER BY updated DESC', limit=20)

    # --- working a ticket (`helpdesk tickets note|priority|category|link|merge|status`) ------------
    def add_internal_note(self, key: str, body: str, *, author: str) -> None:
        """An IT-only comment: a JSM internal note, restricted to ``internal_note_role`` as well."""
        client = self.client()
        data = {"body": f"{body}\n\n— {author} (internal note, via the helpdesk bot)",
                "properties": [{"key": "sd.public.comment", "value": {"internal": True}}],
                "visibility": {"type": "role", "value": self.settings.internal_note_role}}
        with map_jira_errors("add internal note"):
            client._session.post(client._get_url(f"issue/{key}/comment"), data=json.dumps(data))

    def set_fields(self, key: str, fields: dict[str, Any]) -> None:
        """Change fields of an issue (priority, labels)."""
        client = self.client()
        with map_jira_errors("edit issue"):
            client._session.put(client._get_url(f"issue/{key}"), data=json.dumps({"fields": fields}))

    def link(self, key: str, other: str, *, duplicate: bool) -> None:
        """Link two issues: ``key`` duplicates ``other`` (``duplicate``) or relates to it."""
        client = self.client()
        kind = self.settings.link_type_duplicate if duplicate else self.settings.link_type_related
        data = {"type": {"name": kind}, "inwardIssue": {"key": key}, "outwardIssue": {"key": other}}
        with map_jira_errors("link issues"):
            client._session.post(client._get_url("issueLink"), data=json.dumps(data))
