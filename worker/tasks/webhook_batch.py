"""Webhook delivery in batches: one task delivers a batch in one transaction, POSTs concurrent.

A webhook is I/O, and one row at a time (its own session, a handful of queries and a commit each) a
batch cost more CPU in the database round trips than in the POSTs. :func:`deliver_many` runs the
batch through :func:`worker.outbox.runner.run_actions`: the rows locked in one query, their messages
in one more, the documents in two (connectors.webhook.payload.build_payloads), the POSTs from a
thread pool bounded per endpoint (connectors.webhook.batch), every row's outcome and ActionAttempt
written and committed once. Each row keeps its own outcome: a receiver's error fails that row only.
Retries are unchanged: a delivery that failed is re-scheduled alone on ``mailroute.deliver_webhook``
with the countdown :func:`worker.tasks.webhooks.schedule` computed (Retry-After honoured). A database
outage, or anything unexpected, rolls the batch back and re-queues each id alone: the effects are
idempotent (the receiver gets the same Idempotency-Key again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from worker.core.settings import get_settings
from worker.db.models import Action
from worker.db.session import session_scope
from worker.outbox.runner import run_actions
from worker.tasks.app import app
from worker.tasks.retry import RoutedTask
from worker.tasks.webhooks import deliver_webhook, endpoint_attempts, schedule

OUTAGE_RETRY_S = 5.0

log = logging.getLogger(__name__)


def deliver_many(
    action_ids: Sequence[int], *, reschedule: Callable[[int, float], None] | None = None
) -> dict[str, int]:
    """Deliver a batch; ``reschedule(id, seconds)`` gets each one to try again alone."""
    outcomes: dict[str, int] = {}
    retries: dict[int, float] = {}
    try:
        with session_scope(get_settings().database_url) as session:
            statuses = run_actions(
                session, action_ids, max_attempts=lambda a: endpoint_attempts(a.target), kind="webhook"
            )
            for action_id, status in statuses.items():
                action = session.get(Action, action_id) if status != "missing" else None
                if action is not None:
                    delivery = schedule(action, status)
                    if delivery.retry_in is not None:
                        retries[action_id] = delivery.retry_in
                outcomes[status] = outcomes.get(status, 0) + 1
    except Exception as e:  # rolled back: nothing recorded, every row as before
        log.error("webhook batch of %d: %s; each re-queued alone", len(action_ids), e)
        outcomes, retries = {"error": len(action_ids)}, dict.fromkeys(action_ids, OUTAGE_RETRY_S)
    if reschedule is not None:
        for action_id, wait in retries.items():
            reschedule(action_id, wait)
    return outcomes


@app.task(bind=True, base=RoutedTask, name="mailroute.deliver_webhooks", acks_late=True)
def deliver_webhooks(self: RoutedTask, action_ids: Sequence[int]) -> dict[str, int]:
    """Deliver a batch of webhook actions concurrently; each failure retries alone on deliver_webhook.

    In-process (no broker) nothing is re-scheduled: the rows stay FAILED for ``due_webhooks``.
    """
    if self.in_process:
        return deliver_many(action_ids)
    return deliver_many(
        action_ids, reschedule=lambda i, wait: deliver_webhook.apply_async((i,), countdown=wait)
    )
