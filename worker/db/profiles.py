"""The routing profile of a message, read in ONE place (admin scope, review-queue alerts use it).

Until messages carry a ``profile`` column (issue 16) every message is in profile ``default``; once the
column exists both functions read it with no other change.
"""

from __future__ import annotations

from typing import Any

from worker.db.models import Message

DEFAULT_PROFILE = "default"


def profile_column() -> Any:
    """The messages' profile column, None while messages have none (all are ``default``)."""
    return getattr(Message, "profile", None)


def message_profile(message: Message) -> str:
    """The profile ``message`` belongs to."""
    return str(getattr(message, "profile", None) or DEFAULT_PROFILE)
