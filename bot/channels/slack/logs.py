"""bolt's logger, without request bodies: bolt writes the body into a few messages (a bad signature,
an unhandled request); those keep their first words only, and any bolt line is capped."""

from __future__ import annotations

import logging

BODY_MARKERS = ("body", "Unhandled request", "request (", "skipped calling")
MAX_LINE = 300
LOGGER_NAME = "bot.channels.slack.bolt"


class NoBodies(logging.Filter):
    """Rewrites bolt records that could carry a request body; caps the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(marker in message for marker in BODY_MARKERS):
            record.msg, record.args = message.split("(", 1)[0].strip() + " (request details not logged)", None
        elif len(message) > MAX_LINE:
            record.msg, record.args = message[:MAX_LINE] + "…", None
        return True


_FILTER = NoBodies()


def bolt_logger() -> logging.Logger:
    """The logger given to bolt (its middleware loggers copy the filter from it)."""
    logger = logging.getLogger(LOGGER_NAME)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
