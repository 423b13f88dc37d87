"""The review queues per profile, and which of them are over their limits.

Contract: :func:`review_queues` counts the pending live decisions of each profile and finds the
oldest waiting mail; a queue is *over* when it holds at least ``max_size`` mails or its oldest mail has
waited ``max_wait_s`` or longer. :func:`due` keeps the over queues whose last alert (an audit event
``review.alert`` on ``profile:NAME``) is older than ``every_s``, so one long queue alerts once an hour,
not once a minute. Plain reads; sending is the webhook connector's (``connectors.webhook.notify``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from worker.db.models import AuditEvent, Decision, Message
from worker.db.profiles import DEFAULT_PROFILE, profile_column

ALERT_ACTION = "review.alert"


@dataclass(frozen=True)
class QueueState:
    profile: str
    pending: int
    oldest_at: datetime | None
    oldest_wait_s: float
    reasons: list[str] = field(default_factory=list)

    @property
    def over(self) -> bool:
        return bool(self.reasons)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def review_queues(
    session: Session, *, max_size: int, max_wait_s: float, now: datetime | None = None
) -> list[QueueState]:
    """Every profile with mail waiting for review, with why it is over its limits (if it is)."""
    now = now or datetime.now(UTC)
    column = profile_column()
    profile = column if column is not None else literal(DEFAULT_PROFILE)
    query = (
        select(profile, func.count(Decision.id), func.min(Message.received_at))
        .join(Decision, Decision.message_id == Message.id)
        .where(Decision.mode == "live", Decision.review_state == "pending")
        .group_by(profile)
    )
    states = []
    for name, pending, oldest in session.execute(query):
        oldest = _aware(oldest)
        wait = (now - oldest).total_seconds() if oldest else 0.0
        reasons = []
        if pending >= max_size:
            reasons.append(f"{pending} mails waiting (limit {max_size})")
        if wait >= max_wait_s:
            reasons.append(f"oldest waiting {wait / 3600:.1f} h (limit {max_wait_s / 3600:.1f} h)")
        states.append(QueueState(str(name), int(pending), oldest, wait, reasons))
    return sorted(states, key=lambda s: s.profile)


def due(
    session: Session, states: Sequence[QueueState], *, every_s: float, now: datetime | None = None
) -> list[QueueState]:
    """The over queues not alerted within the last ``every_s`` seconds."""
    now = now or datetime.now(UTC)
    since = now - timedelta(seconds=every_s)
    recent = set(
        session.scalars(
            select(AuditEvent.subject).where(AuditEvent.action == ALERT_ACTION, AuditEvent.at > since)
        )
    )
    return [s for s in states if s.over and f"profile:{s.profile}" not in recent]
