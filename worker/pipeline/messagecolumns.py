"""A decided message's row: the columns its parse fills, and the statement that marks a batch decided.

One Core executemany UPDATE by primary key for the batch (``MARK_DECIDED``), not the ORM's bulk
UPDATE: the rows are plain dicts and no ORM object of them is in the classify session.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, update

from worker.db.models import Message
from worker.parsing.message import ParsedMail
from worker.store.boilerplate import normalise

PARSED_COLUMNS = (
    "subject",
    "subject_key",
    "sender",
    "recipients",
    "sent_at",
    "list_id",
    "headers",
    "body_text",
    "clean_text",
    "parse_warnings",
)

_MESSAGES: Table = Message.__table__  # type: ignore[assignment]
_MARKED = ("status", "error", "decided_at", *PARSED_COLUMNS)
MARK_DECIDED = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("row_id"))
    .values({name: bindparam(name) for name in _MARKED})
)


def parsed_columns(parsed: ParsedMail, warnings: list[str], max_chars: int) -> dict[str, Any]:
    """The message columns filled from its parse."""
    return {
        "subject": parsed.subject[:2000],
        "subject_key": normalise(parsed.subject[:2000]),
        "sender": parsed.sender[:2000],
        "recipients": list(parsed.recipients)[:200],
        "sent_at": parsed.date,
        "list_id": parsed.list_id,
        "headers": {k: v[:2000] for k, v in list(parsed.headers.items())[:100]},
        "body_text": parsed.body_text[: max_chars * 10],
        "clean_text": parsed.text,
        "parse_warnings": sorted(set(warnings) | set(parsed.warnings))[:50],
    }
