"""Logging for every mailroute process: JSON lines or plain text, a message id on each line about a mail.

A line is about a mail when it is logged with ``extra={"message_id": id}`` or inside
``with bind_message(id):``; either way the record carries ``message_id``, and the JSON line has it as a
field, so ``jq 'select(.message_id == 42)'`` follows one mail through poller, worker and admin.
Secrets never reach a line: URLs lose their password and ``password=…``/``token=…`` values their
value, in the message and in tracebacks alike.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

# moved out, used here and still imported from here: redacting secrets
from worker.core.redaction import RedactFilter as RedactFilter
from worker.core.redaction import redact as redact
from worker.core.settings import Settings

_message_id: ContextVar[int | str | None] = ContextVar("mailroute_message_id", default=None)

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# LogRecord attributes that are not ``extra`` fields (``message`` and ``asctime`` are set by formatters)
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


@contextmanager
def bind_message(message_id: int | str | None) -> Iterator[None]:
    """Tag every log record made inside the block (this thread or task) with ``message_id``."""
    token = _message_id.set(message_id)
    try:
        yield
    finally:
        _message_id.reset(token)


def current_message_id() -> int | str | None:
    return _message_id.get()


class MessageIdFilter(logging.Filter):
    """Gives every record a ``message_id`` attribute: the ``extra`` one, else the bound one, else None."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "message_id", None) is None:
            record.message_id = _message_id.get()
        return True


class PlainFormatter(logging.Formatter):
    """``time LEVEL logger: message [message_id=N]``, tracebacks included, redacted."""

    def __init__(self) -> None:
        super().__init__(PLAIN_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        message_id = getattr(record, "message_id", None)
        if message_id is not None:
            head, newline, rest = line.partition("\n")
            line = f"{head} [message_id={message_id}]{newline}{rest}"
        return redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, message_id, extra fields, exc_info."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "message_id": getattr(record, "message_id", None),
            "process": record.process,
            "thread": record.threadName,
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


CHATTY_LIBRARIES = (
    "alembic",
    "httpx",
    "httpcore",
    "urllib3",
    "filelock",
    "huggingface_hub",
    "sentence_transformers",
)


def configure_logging(
    settings: Settings, *, level: int | str | None = None, stream: IO[str] | None = None
) -> None:
    """Route the root logger to one stderr handler: JSON when ``settings.log_json``, plain otherwise.

    Replaces the root's handlers (idempotent: calling it twice leaves one handler). ``level``
    overrides ``settings.log_level``: Celery passes its ``--loglevel`` unless MAILROUTE_LOG_LEVEL is set
    explicitly; the CLI uses ``settings.log_level`` (INFO by default).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_json else PlainFormatter())
    handler.addFilter(MessageIdFilter())
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    chosen = level or settings.log_level
    root.setLevel(chosen.upper() if isinstance(chosen, str) else chosen)
    # libraries' INFO chatter (migrations run, HTTP requests made, model loaded) is noise; DEBUG shows it
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING if root.level > logging.DEBUG else logging.NOTSET)
    logging.captureWarnings(True)
