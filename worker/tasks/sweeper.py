"""Re-queue work that a crash left behind: the safety net under at-least-once delivery.

A mail is committed before it is queued; if the process dies in between, or a broker loses a task,
the row stays RECEIVED. FAILED rows are retried up to a limit, pending or failed actions likewise.
The poller runs :func:`sweep` periodically; ``mailroute requeue`` runs it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from worker.db.models import Action, ActionStatus, Message, MessageStatus
from worker.tasks.producer import enqueue_actions, enqueue_classify


@dataclass(frozen=True)
class Stale:
    message_ids: list[int]
    action_ids: list[int]


def find_stale(
    session: Session, *, older_than_s: float = 300, max_attempts: int = 10, limit: int = 10000
) -> Stale:
    """Messages and actions that should have finished by now and did not."""
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
    messages = session.scalars(
        select(Message.id)
        .where(
            or_(
                Message.status == MessageStatus.RECEIVED,
                (Message.status == MessageStatus.FAILED) & (Message.attempts < max_attempts),
            ),
            Message.received_at < cutoff,
        )
        .order_by(Message.id)
        .limit(limit)
    )
    actions = session.scalars(
        select(Action.id)
        .where(
            Action.status.in_([ActionStatus.PENDING, ActionStatus.FAILED]),
            Action.updated_at < cutoff,
            or_(Action.next_attempt_at.is_(None), Action.next_attempt_at <= datetime.now(UTC)),
        )
        .order_by(Action.id)
        .limit(limit)
    )
    return Stale(list(messages), list(actions))


def sweep(session: Session, *, older_than_s: float = 300, batch_size: int = 32) -> Stale:
    """Find stale work and queue it again; duplicates are harmless (tasks are idempotent)."""
    stale = find_stale(session, older_than_s=older_than_s)
    enqueue_classify(stale.message_ids, batch_size=batch_size)
    enqueue_actions(stale.action_ids)
    return stale
