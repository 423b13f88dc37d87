"""The audit log: one append-only row per thing a person did (review, rule publish, user change, login).

Contract: :func:`record` adds an :class:`~worker.db.models.AuditEvent` to the caller's session, so the
event commits (or rolls back) with the change it describes — an audit row never claims a change that
did not happen. ``before``/``after`` are small JSON objects of what changed (labels, role, version).
Action names are dotted verbs: ``review.approve``, ``review.correct``, ``rules.publish``,
``rules.rollback``, ``user.add``, ``user.disable``, ``user.reset_password``, ``user.token``,
``user.token_revoke``, ``login``, ``login.failed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from worker.db.models import AuditEvent, utcnow


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one audit event to ``session`` (the caller commits it with the change)."""
    event = AuditEvent(
        at=at or utcnow(),
        actor=(actor or "unknown")[:255],
        action=action[:64],
        subject=subject[:255],
        before=dict(before or {}),
        after=dict(after or {}),
    )
    session.add(event)
    return event
