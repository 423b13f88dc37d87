"""Thin Celery tasks: take ids, call plain functions, declare retries."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError

from worker.core.errors import TransientError
from worker.db.models import ActionStatus
from worker.db.session import session_scope
from worker.learning.history import learned_thresholds_for
from worker.outbox.runner import run_action, run_actions
from worker.pipeline.classify import classify_batch, classify_profiles, record_batch_failure
from worker.pipeline.runtime import get_runtime
from worker.pipeline.shadow import run_shadow
from worker.tasks.app import app
from worker.tasks.producer import enqueue_actions
from worker.tasks.retry import TRANSIENT, TRANSIENT_OR_BACKEND, RoutedTask

log = logging.getLogger(__name__)


@app.task(name="mailroute.classify", **TRANSIENT_OR_BACKEND, retry_backoff_max=300, max_retries=10)
def classify(message_ids: Sequence[int]) -> dict[str, int]:
    """Decide a batch of stored messages (each by its profile's live rule set), then queue their actions.

    Everything that can fail — the model, the live rule sets (the last good one when a version or
    the rules file is broken), the database — is inside the handler, so a failed batch keeps its
    error on each mail.
    """
    try:
        runtime = get_runtime()
        with session_scope() as session:
            if runtime.profiles is not None:  # each mail by its own profile's published rule set
                result = classify_profiles(
                    session,
                    message_ids,
                    runtime.scorer,
                    runtime.profiles,
                    max_chars=runtime.settings.max_chars,
                    learned_for=lambda rules: learned_thresholds_for(session, rules, runtime.settings),
                    boilerplate_min=runtime.settings.subject_boilerplate_min,
                )
            else:
                rule_set = runtime.rule_set
                result = classify_batch(
                    session,
                    message_ids,
                    runtime.scorer,
                    rule_set,
                    max_chars=runtime.settings.max_chars,
                    learned=learned_thresholds_for(session, rule_set, runtime.settings),
                    boilerplate_min=runtime.settings.subject_boilerplate_min,
                )
    except Exception as e:
        with session_scope() as session:  # the batch rolled back: keep its error on each message
            record_batch_failure(session, message_ids, e)
        raise
    if runtime.settings.shadow_rules_path and result.decided:
        run_shadow(result.decided, runtime.settings.shadow_rules_path)
    try:
        enqueue_actions(result.action_ids, kinds=result.action_kinds)
    except OperationalError:
        if not runtime.settings.eager:
            raise
        # in-process (no broker) the actions just ran inline and met a database outage: the decisions
        # are committed and the rows keep their state; the sweeper runs them again. Retrying the
        # classification would only raise a Retry into the caller (the poller's watcher thread).
        log.warning(
            "actions of %d decided mail(s) left for the sweeper: database unavailable", len(result.decided)
        )
    return {"decided": len(result.decided), "skipped": len(result.skipped), "failed": len(result.failed)}


@app.task(name="mailroute.apply_action", **TRANSIENT, retry_backoff_max=600, max_retries=8)
def apply_action(action_id: int) -> str:
    """Carry out one outbox row; retried later while it is FAILED."""
    with session_scope() as session:
        status = run_action(session, action_id)
    if status == ActionStatus.FAILED:
        raise TransientError(f"action {action_id} failed; will retry")
    return status


@app.task(bind=True, base=RoutedTask, name="mailroute.apply_actions", max_retries=None)
def apply_actions(self: RoutedTask, action_ids: Sequence[int]) -> dict[str, int]:
    """Carry out a batch of outbox rows in one transaction; failures retry alone.

    IMAP rows are grouped: one STORE/MOVE per (account, folder, kind, target) on a reused connection,
    each row still with its own outcome and ActionAttempt. One commit per batch instead of per row:
    the effects are idempotent, so if the worker dies before the commit, running the batch again
    leaves every mailbox as running it once. A database outage (restart, read-only, disk full) rolls
    the batch back and retries it with backoff.
    """
    outcomes: dict[str, int] = {}
    failed = []
    try:
        with session_scope() as session, session.begin_nested():
            for action_id, status in run_actions(session, action_ids).items():
                outcomes[status] = outcomes.get(status, 0) + 1
                if status == ActionStatus.FAILED:
                    failed.append(action_id)
    except OperationalError as e:
        if self.in_process:
            raise  # in-process: the caller (poller, ingest) treats it as an outage; the sweeper retries
        self.retry_outage(e)
    if self.in_process:
        # in-process (no broker), a retry would run inline at once and its Retry would escape into the
        # caller (the poller); failed rows keep their error and the sweeper re-queues them later
        return outcomes
    for action_id in failed:
        apply_action.apply_async((action_id,), countdown=5)
    return outcomes
