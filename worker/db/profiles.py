"""The routing profile of a message, read in ONE place (admin scope, review-queue alerts use it).

Every message carries the routing profile resolved from its account and folder when it was stored
(``messages.profile``, ``default`` unless the accounts file maps the folder elsewhere).
"""

from __future__ import annotations

from typing import Any

from worker.db.models import DEFAULT_PROFILE, Message

__all__ = ["DEFAULT_PROFILE", "message_profile", "profile_column"]


def profile_column() -> Any:
    """The messages' profile column."""
    return Message.profile


def message_profile(message: Message) -> str:
    """The profile ``message`` belongs to."""
    return str(message.profile or DEFAULT_PROFILE)
