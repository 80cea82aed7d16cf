"""Structured logging with a per-turn context (turn id, user, channel) and secret masking."""

from __future__ import annotations

import contextvars
import json
import logging
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from bot.redact import redact

_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("helpdesk_log_context", default={})
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


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
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


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {record.name}: {record.getMessage()}"
        extras = [f"{k}={v}" for k, v in vars(record).items()
                  if k not in _STANDARD and not k.startswith("_")]
        line = base + (" " + " ".join(extras) if extras else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str = "INFO", *, json_format: bool = False,
                      secrets: Iterable[str] = ()) -> None:
    """Install one handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_helpdesk", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler._helpdesk = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter(secrets))
    handler.setFormatter(JsonFormatter() if json_format else KeyValueFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("urllib3", "httpx", "sentence_transformers", "transformers", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
