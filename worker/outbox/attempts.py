"""One try of an outbox row, recorded: its outcome on the row and as an ActionAttempt, and logged.

The outcome follows from what the executor raised: nothing → DONE; ``NotApplicable`` → SKIPPED;
``TransientError`` → FAILED (retryable) until the maximum attempts, then DEAD; ``ConnectorError`` →
DEAD at once. A row given up (DEAD) is logged at WARNING so an operator sees it at the default level.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from worker.core.errors import ConnectorError, TransientError
from worker.db.models import Action, ActionAttempt, ActionStatus
from worker.outbox.registry import NotApplicable

log = logging.getLogger("worker.outbox.runner")  # the runner's records keep their logger


def _finish(
    session: Session,
    action: Action,
    max_attempts: int,
    failure: BaseException | None,
    started: float,
    status_code: int | None = None,
    duration_ms: float | None = None,
) -> str:
    """Record one try's outcome on the row and as an ActionAttempt; returns the new status."""
    number = (action.attempts or 0) + 1
    error: str | None = None
    if failure is None:
        outcome = ActionStatus.DONE
    elif isinstance(failure, NotApplicable):
        outcome, error = ActionStatus.SKIPPED, str(failure)
    elif isinstance(failure, TransientError):
        outcome = ActionStatus.DEAD if number >= max_attempts else ActionStatus.FAILED
        error, status_code = str(failure), getattr(failure, "status_code", None)
    elif isinstance(failure, ConnectorError):
        outcome, error, status_code = ActionStatus.DEAD, str(failure), getattr(failure, "status_code", None)
    else:
        raise failure
    action.attempts = number
    action.status = outcome
    action.last_error = error
    if outcome == ActionStatus.DONE:
        action.done_at = datetime.now(UTC)
    session.add(
        ActionAttempt(
            action_id=action.id,
            number=number,
            outcome=outcome,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms if duration_ms is not None else (time.perf_counter() - started) * 1000,
        )
    )
    if outcome == ActionStatus.DEAD:  # given up: an operator must see it at the default level
        log.warning(
            "action %s %s -> %s after %d attempt(s): %s",
            action.kind,
            action.target,
            outcome,
            number,
            error,
            extra={"message_id": action.message_id},
        )
    else:
        log.info(
            "action %s %s -> %s", action.kind, action.target, outcome, extra={"message_id": action.message_id}
        )
    return outcome
