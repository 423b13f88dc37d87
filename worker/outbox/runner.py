"""The outbox runner: one executor class per action kind, found through a registry.

Executors register themselves with :func:`register` when their module is imported; the wiring layer
(:mod:`worker.tasks.executors`) imports every one explicitly and :func:`check_executors` refuses to
start when an action kind of the rule language has none. A row whose kind has no executor at run
time fails visibly (retryable) instead of being skipped.

``run_action`` is what the action task calls. It is idempotent: an action already in its desired
state is not run again, every try is logged as an ActionAttempt, and a failure leaves the row
retryable (FAILED) until the maximum attempts, then DEAD — which the admin can re-queue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.orm import Session

from worker.core.errors import ConfigError, ConnectorError, TransientError
from worker.core.logs import bind_message
from worker.db.models import Action, ActionAttempt, ActionStatus, Message

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class NotApplicable(Exception):
    """The action cannot apply to this message (e.g. an IMAP action for a mail from a file)."""


class ActionExecutor(Protocol):
    def apply(self, session: Session, action: Action, message: Message) -> int | None:
        """Make the effect present (or absent, per ``action.desired``); return a status code if any.

        Raise TransientError to retry later, ConnectorError to fail, NotApplicable to skip.
        """


EXECUTORS: dict[str, ActionExecutor] = {}


def register(kind: str, executor: ActionExecutor) -> None:
    EXECUTORS[kind] = executor


def check_executors(kinds: Iterable[str]) -> None:
    """Raise ConfigError naming every action kind with no registered executor (called at start-up)."""
    missing = sorted(set(kinds) - set(EXECUTORS))
    if missing:
        raise ConfigError(f"no executor registered for action kind(s): {', '.join(missing)}")


def run_action(session: Session, action_id: int, *, max_attempts: int = MAX_ATTEMPTS) -> str:
    """Carry out one outbox row; returns its new status. The caller commits."""
    action = session.get(Action, action_id, with_for_update=True)
    if action is None:
        return "missing"
    with bind_message(action.message_id):
        return _run(session, action, max_attempts)


def _run(session: Session, action: Action, max_attempts: int) -> str:
    if action.status in (ActionStatus.DONE, ActionStatus.SKIPPED, ActionStatus.DEAD):
        return action.status
    executor = EXECUTORS.get(action.kind)
    number = (action.attempts or 0) + 1
    started = time.perf_counter()
    status_code: int | None = None
    try:
        if executor is None:  # a wiring bug: keep the row retryable and its error visible
            raise TransientError(f"no executor registered for action kind {action.kind!r}")
        status_code = executor.apply(session, action, action.message)
        outcome, error = ActionStatus.DONE, None
    except NotApplicable as e:
        outcome, error = ActionStatus.SKIPPED, str(e)
    except TransientError as e:
        outcome = ActionStatus.DEAD if number >= max_attempts else ActionStatus.FAILED
        error, status_code = str(e), getattr(e, "status_code", None)
    except ConnectorError as e:
        outcome, error, status_code = ActionStatus.DEAD, str(e), getattr(e, "status_code", None)
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
            duration_ms=(time.perf_counter() - started) * 1000,
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
