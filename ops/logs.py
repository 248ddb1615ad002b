"""Logging, configured once per process by the `qrmint` command.

One handler on the root logger, so every module's `logging.getLogger(__name__)` and
uvicorn's own loggers end up in the same stream (stderr), in one of two formats:

* text: `2026-11-25T18:00:00.123Z INFO    api.access: POST /qr/generate 201 4.2ms request_id=…`;
  a traceback follows its record on indented lines.
* json: one object per line, always: `{"ts", "level", "logger", "message", …extra fields,
  "request_id", "exc"}`; a traceback is the `exc` field of its record, never extra lines.

The request id of the HTTP request being served (a context variable set by
`ops.requests`) is attached to every record logged while serving it.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

REQUEST_ID: ContextVar[str | None] = ContextVar("qrmint_request_id", default=None)

# Chatty at INFO (one line per outgoing HTTP request, per SQL statement): kept to warnings.
_QUIET = ("httpx", "httpcore", "aiosqlite", "tortoise", "asyncio", "websockets", "urllib3")
# uvicorn says these once per server; a process runs up to two, and logs its own lines.
_UVICORN_REPEATS = frozenset(
    {
        "Started server process [%d]",
        "Finished server process [%d]",
        "Shutting down",
        "Waiting for application startup.",
        "Application startup complete.",
        "Waiting for application shutdown.",
        "Application shutdown complete.",
        "connection open",
        "connection closed",
    }
)
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


def configure_logging(log_format: str, level: str, stream: TextIO | None = None) -> None:
    """Replace whatever handlers the root logger has with ours; safe to call again."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_attach_request_id)
    handler.addFilter(_drop_uvicorn_repeats)
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        # Whatever uvicorn configured before: no handlers of its own, everything to ours.
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)


def _attach_request_id(record: logging.LogRecord) -> bool:
    if getattr(record, "request_id", None) is None:
        record.request_id = REQUEST_ID.get()
    return True


def _drop_uvicorn_repeats(record: logging.LogRecord) -> bool:
    return not (record.name.startswith("uvicorn") and record.msg in _UVICORN_REPEATS)


def timestamp(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """What the caller passed with `extra=`, beyond the standard record attributes."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and key != "request_id" and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **extra_fields(record),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{timestamp(record.created)} {record.levelname:<7} {record.name}: "
        line += record.getMessage()
        request_id = getattr(record, "request_id", None)
        if request_id:
            line += f" request_id={request_id}"
        details = []
        if record.exc_info:
            details.append(self.formatException(record.exc_info))
        if record.stack_info:
            details.append(self.formatStack(record.stack_info))
        # Indented continuation lines: log collectors join them to the record they follow.
        lines = [line, *("\n".join(details).splitlines() if details else ())]
        return "\n    ".join(lines)
