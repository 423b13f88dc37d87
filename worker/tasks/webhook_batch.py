"""Concurrent webhook delivery: one task delivers a batch, a bounded number in flight per endpoint.

A webhook is I/O: a worker process that POSTs one at a time spends nearly all its time waiting on
the receiver. :func:`deliver_many` runs :func:`worker.tasks.webhooks.deliver` for each id in a thread
pool, each delivery in its own session and transaction (one row's failure never rolls back
another's), with at most ``webhook_concurrency`` deliveries in flight per endpoint in this process so
one receiver is never flooded and a slow one does not starve the others. Retries are unchanged: a
delivery that failed is re-scheduled alone on ``mailroute.deliver_webhook`` with the countdown
:func:`deliver` computed (Retry-After honoured); a database outage re-queues the id alone.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from worker.core.settings import get_settings
from worker.db.models import Action
from worker.db.session import session_scope
from worker.tasks.app import app
from worker.tasks.retry import RoutedTask
from worker.tasks.webhooks import Delivery, deliver, deliver_webhook

OUTAGE_RETRY_S = 5.0

log = logging.getLogger(__name__)
_limits: dict[str, threading.BoundedSemaphore] = {}
_limits_lock = threading.Lock()
_limits_pid = 0


def endpoint_limit(target: str, limit: int) -> threading.BoundedSemaphore:
    """This process's semaphore for one endpoint (shared by every batch the process runs)."""
    global _limits_pid
    with _limits_lock:
        if _limits_pid != os.getpid():  # a forked child must not inherit a parent's held permits
            _limits.clear()
            _limits_pid = os.getpid()
        return _limits.setdefault(target, threading.BoundedSemaphore(limit))


def deliver_one(action_id: int, target: str, limit: int) -> Delivery | Exception:
    """One attempt in its own transaction, holding the endpoint's permit; an error is returned."""
    with endpoint_limit(target, limit):
        try:
            with session_scope(get_settings().database_url) as session:
                return deliver(session, action_id)
        except Exception as e:  # reported per id by the caller
            return e


def deliver_many(
    action_ids: Sequence[int], *, reschedule: Callable[[int, float], None] | None = None
) -> dict[str, int]:
    """Deliver a batch concurrently; ``reschedule(id, seconds)`` gets each one to try again alone."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        rows = session.execute(select(Action.id, Action.target).where(Action.id.in_(list(action_ids))))
        targets = {id_: target for id_, target in rows}
    ids = [i for i in action_ids if i in targets]
    outcomes: dict[str, int] = {}
    if len(ids) < len(action_ids):
        outcomes["missing"] = len(action_ids) - len(ids)
    if not ids:
        return outcomes
    limit = settings.webhook_concurrency
    workers = min(len(ids), limit * len(set(targets.values())))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook") as pool:
        results = list(pool.map(lambda i: deliver_one(i, targets[i], limit), ids))
    retry_in: float | None
    for action_id, result in zip(ids, results, strict=True):
        if isinstance(result, Exception):
            log.error("webhook action %s: %s; re-queued alone", action_id, result)
            outcome, retry_in = "error", OUTAGE_RETRY_S
        else:
            outcome, retry_in = result.status, result.retry_in
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if retry_in is not None and reschedule is not None:
            reschedule(action_id, retry_in)
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
