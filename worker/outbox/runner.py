"""The outbox runner: one executor class per action kind, found through a registry.

Executors are registered in :mod:`worker.outbox.registry`. A row whose kind has no executor at run
time fails visibly (retryable) instead of being skipped.

``run_action`` is what the action task calls. It is idempotent: an action already in its desired
state is not run again, every try is logged as an ActionAttempt, and a failure leaves the row
retryable (FAILED) until the maximum attempts, then DEAD — which the admin can re-queue.

``run_actions`` does the same for a batch: an executor with ``apply_many`` (the IMAP ones) gets all
rows of its kind at once and can group them into one server command per (folder, target); every
row still gets its own outcome and ActionAttempt, recorded by :mod:`worker.outbox.attempts`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from worker.core.errors import ConnectorError, TransientError
from worker.core.logs import bind_message
from worker.db.models import Action, ActionStatus, Message
from worker.outbox.attempts import _finish
from worker.outbox.registry import EXECUTORS, Applied, NotApplicable

MAX_ATTEMPTS = 8


def run_action(session: Session, action_id: int, *, max_attempts: int = MAX_ATTEMPTS) -> str:
    """Carry out one outbox row; returns its new status. The caller commits."""
    action = session.get(Action, action_id, with_for_update=True)
    if action is None:
        return "missing"
    with bind_message(action.message_id):
        return _run(session, action, max_attempts)


def run_actions(
    session: Session,
    action_ids: Sequence[int],
    *,
    max_attempts: int | Callable[[Action], int] = MAX_ATTEMPTS,
    kind: str | None = None,
) -> dict[int, str]:
    """Carry out a batch of outbox rows, grouped per kind where the executor can; id → new status.

    ``max_attempts`` may depend on the row (a webhook's endpoint sets its own); with ``kind``, rows of
    other kinds are left alone (reported missing). The rows' messages
    come in one more query, not one per row (without their raw bytes, loaded only if read).
    """
    query = (
        select(Action)
        .where(Action.id.in_(list(action_ids)), *([Action.kind == kind] if kind else []))
        .order_by(Action.id)
        .with_for_update(of=Action)
        .options(selectinload(Action.message).defer(Message.raw))  # executors never read the mail itself
    )
    actions = list(session.scalars(query))
    limit = max_attempts if callable(max_attempts) else lambda _: max_attempts
    statuses = {action_id: "missing" for action_id in action_ids}
    by_kind: dict[str, list[Action]] = {}
    for action in actions:
        if action.status in (ActionStatus.DONE, ActionStatus.SKIPPED, ActionStatus.DEAD):
            statuses[action.id] = action.status
        else:
            by_kind.setdefault(action.kind, []).append(action)
    for kind, group in by_kind.items():
        apply_many = getattr(EXECUTORS.get(kind), "apply_many", None)
        if apply_many is None or len(group) == 1:
            for action in group:
                with bind_message(action.message_id):
                    statuses[action.id] = _run(session, action, limit(action))
            continue
        started = time.perf_counter()
        try:
            results = apply_many(session, [(action, action.message) for action in group])
        except (NotApplicable, TransientError, ConnectorError) as e:
            results = {action.id: e for action in group}
        for action in group:
            result = results.get(action.id)
            done = result if isinstance(result, Applied) else Applied()
            failure = None if isinstance(result, Applied) else result
            with bind_message(action.message_id):
                statuses[action.id] = _finish(
                    session, action, limit(action), failure, started, done.status_code, done.duration_ms
                )
    return statuses


def _run(session: Session, action: Action, max_attempts: int) -> str:
    if action.status in (ActionStatus.DONE, ActionStatus.SKIPPED, ActionStatus.DEAD):
        return action.status
    executor = EXECUTORS.get(action.kind)
    started = time.perf_counter()
    error: BaseException | None = None
    status_code: int | None = None
    try:
        if executor is None:  # a wiring bug: keep the row retryable and its error visible
            raise TransientError(f"no executor registered for action kind {action.kind!r}")
        status_code = executor.apply(session, action, action.message)
    except (NotApplicable, TransientError, ConnectorError) as e:
        error = e
    return _finish(session, action, max_attempts, error, started, status_code)
