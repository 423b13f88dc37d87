"""Thin Celery tasks: take ids, call plain functions, declare retries."""

from __future__ import annotations

from collections.abc import Sequence

from worker.actions import run_action
from worker.celery_app import app
from worker.classify import classify_batch, record_batch_failure
from worker.db.models import Action, ActionStatus
from worker.db.session import session_scope
from worker.errors import BackendError, TransientError
from worker.runtime import get_runtime


@app.task(
    name="mailroute.classify",
    autoretry_for=(TransientError, BackendError, OSError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
)
def classify(message_ids: Sequence[int]) -> dict[str, int]:
    """Decide a batch of stored messages, then queue their actions."""
    runtime = get_runtime()
    try:
        with session_scope() as session:
            result = classify_batch(
                session, message_ids, runtime.scorer, runtime.rule_set, max_chars=runtime.settings.max_chars
            )
    except Exception as e:
        with session_scope() as session:  # the batch rolled back: keep its error on each message
            record_batch_failure(session, message_ids, e)
        raise
    enqueue_actions(result.action_ids)
    return {"decided": len(result.decided), "skipped": len(result.skipped), "failed": len(result.failed)}


@app.task(
    name="mailroute.apply_action",
    autoretry_for=(TransientError, OSError),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def apply_action(action_id: int) -> str:
    """Carry out one outbox row; retried later while it is FAILED."""
    with session_scope() as session:
        status = run_action(session, action_id)
    if status == ActionStatus.FAILED:
        raise TransientError(f"action {action_id} failed; will retry")
    return status


def enqueue_actions(action_ids: Sequence[int]) -> None:
    """Queue each action on its task (webhooks have their own queue and task, when installed)."""
    if not action_ids:
        return
    with session_scope() as session:
        kinds = {a.id: a.kind for a in session.query(Action).filter(Action.id.in_(list(action_ids)))}
    for action_id in action_ids:
        task = app.tasks.get("mailroute.deliver_webhook") if kinds.get(action_id) == "webhook" else None
        (task or apply_action).delay(action_id)


def enqueue_classify(message_ids: Sequence[int], *, batch_size: int = 32) -> None:
    """Queue stored messages for classification in batches."""
    ids = list(message_ids)
    for start in range(0, len(ids), batch_size):
        classify.delay(ids[start : start + batch_size])


import connectors.webhook_task  # noqa: E402,F401  - registers mailroute.deliver_webhook
