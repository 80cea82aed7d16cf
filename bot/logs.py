"""Structured logging with a per-turn context (turn id, user, channel) and secret masking."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from bot.redact import redact

_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "helpdesk_log_context", default=MappingProxyType({}))
_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


@contextmanager
def bind_context(**fields: Any) -> Iterator[None]:
    """Attach fields (e.g. turn id) to every log line emitted inside the block."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Adds the bound context and masks secrets in the final message."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            setattr(record, key, value)
        try:
            message = record.getMessage()
        except Exception:  # malformed format args: keep the raw message
            message = str(record.msg)
        record.msg = redact(message, self.secrets)
        record.args = None
        return True


class _RedactingFormatter(logging.Formatter):
    """Masks secrets in the *whole* formatted record: message, extras and traceback alike."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.render(record), self.secrets)

    def render(self, record: logging.LogRecord) -> str:
        raise NotImplementedError


class JsonFormatter(_RedactingFormatter):
    """One JSON object per log line."""

    def render(self, record: logging.LogRecord) -> str:
        data = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


class KeyValueFormatter(_RedactingFormatter):
    """``key=value`` log lines, readable by people and by grep."""

    def render(self, record: logging.LogRecord) -> str:
        base = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {record.name}: {record.getMessage()}"
        extras = [f"{k}={v}" for k, v in vars(record).items()
                  if k not in _STANDARD and not k.startswith("_")]
        line = base + (" " + " ".join(extras) if extras else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


PROBE_PATHS = ("/healthz", "/readyz", "/metrics")
# Paths whose last segment is a one-time secret (a reset link, a console sign-in link), and query parameters
# that carry a secret (the Jira webhook's ?secret=; the one-time code of an OAuth/OIDC redirect back from Slack
# or an identity provider; its state is single-use and bound to the browser): masked in every access-log line.
TOKEN_PATHS = ("/reset/", "/console/login/link/")
SECRET_PARAMS = ("secret", "code")
_PATH_TOKEN = re.compile(r"(" + "|".join(re.escape(p) for p in TOKEN_PATHS) + r")[^/?#\s\"]+")
_SECRET_PARAM = re.compile(r"([?&](?:" + "|".join(SECRET_PARAMS) + r")=)[^&#\s\"]*", re.I)


def mask_access_path(path: str) -> str:
    """``path`` with the tokens of :data:`TOKEN_PATHS` and the values of :data:`SECRET_PARAMS` as [REDACTED]."""
    return _SECRET_PARAM.sub(r"\1[REDACTED]", _PATH_TOKEN.sub(r"\1[REDACTED]", path))


class AccessLogMask(logging.Filter):
    """On the ``uvicorn.access`` logger: the request path of each line goes through :func:`mask_access_path`.

    Installed on the logger itself, so it works whichever handler writes the line (ours under
    ``helpdesk serve``, uvicorn's own under ``uvicorn bot.server:app``).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_access_path(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = mask_access_path(record.msg)
        return True


def install_access_log_mask() -> None:
    """Put :class:`AccessLogMask` on the ``uvicorn.access`` logger (idempotent)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, AccessLogMask) for f in access.filters):
        access.addFilter(AccessLogMask())


def _quiet_probes(record: logging.LogRecord) -> bool:
    """Drop the access-log line of a successful health probe (load balancers ask every few seconds)."""
    if record.name != "uvicorn.access" or not isinstance(record.args, tuple) or len(record.args) < 5:
        return True
    path, status = str(record.args[2]), record.args[4]
    return not (path.split("?")[0] in PROBE_PATHS and isinstance(status, int) and status < 400)


def configure_logging(level: str = "INFO", *, json_format: bool = False,
                      secrets: Iterable[str] = ()) -> None:
    """Install one handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_helpdesk", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler._helpdesk = True  # type: ignore[attr-defined]
    handler.addFilter(_quiet_probes)  # before ContextFilter, which folds the args into the message
    handler.addFilter(ContextFilter(secrets))
    handler.setFormatter(JsonFormatter(secrets) if json_format else KeyValueFormatter(secrets))
    root.addHandler(handler)
    root.setLevel(level.upper())
    install_access_log_mask()
    for noisy in ("urllib3", "httpx", "sentence_transformers", "transformers", "filelock", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
