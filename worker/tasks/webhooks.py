"""The webhook delivery task and its retry schedule.

Webhooks have their own task on their own queue so a slow or failing receiver never holds up routing.
The Action row is the source of truth: its ``attempts`` decide the dead letter (the endpoint's
``max_attempts``), its ``next_attempt_at`` says when the next try is due; the task only turns that
into a Celery countdown. With no broker (eager mode) a failed try is *not* retried in-process — that
would sleep inside classification — the row stays FAILED with ``next_attempt_at`` for
:func:`due_webhooks` (a CLI command or periodic task) to pick up.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from connectors.webhook.endpoints import configured_endpoints
from worker.core.errors import ConfigError
from worker.core.settings import get_settings
from worker.db.models import Action, ActionStatus
from worker.db.session import session_scope
from worker.outbox.runner import run_action
from worker.tasks.app import app
from worker.tasks.retry import RoutedTask, retry_delay

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    status: str  # an ActionStatus, or "missing"
    attempts: int
    retry_in: float | None  # seconds until the next try, when one is due


def deliver(
    session: Session,
    action_id: int,
    *,
    now: datetime | None = None,
    rand: Callable[[], float] = random.random,
) -> Delivery:
    """One attempt of a webhook action and its schedule: what the task wraps. The caller commits."""
    # columns only: loading the Action here would keep a stale copy past run_action's FOR UPDATE read
    row = session.execute(select(Action.kind, Action.target).where(Action.id == action_id)).first()
    if row is None or row.kind != "webhook":
        return Delivery("missing", 0, None)
    max_attempts = endpoint_attempts(row.target)
    status = run_action(session, action_id, max_attempts=max_attempts)
    action = session.get(Action, action_id)  # the identity-map copy run_action just updated
    if action is None:
        return Delivery("missing", 0, None)
    return schedule(action, status, now=now, rand=rand)


def endpoint_attempts(target: str) -> int:
    """The most tries for a webhook to ``target``: its ``max_attempts``, else the settings' default."""
    try:
        endpoint = configured_endpoints().get(target)
    except ConfigError:
        endpoint = None  # the executor reports it on the row
    return endpoint.max_attempts if endpoint else get_settings().webhook_max_attempts


def schedule(
    action: Action,
    status: str,
    *,
    now: datetime | None = None,
    rand: Callable[[], float] = random.random,
) -> Delivery:
    """After one try: when the next is due (FAILED only; Retry-After honoured), set on the row."""
    settings = get_settings()
    if status != ActionStatus.FAILED:
        action.next_attempt_at = None
        return Delivery(status, action.attempts, None)
    now = now or datetime.now(UTC)
    not_before = action.next_attempt_at  # set by the executor from Retry-After
    if not_before is not None and not_before.tzinfo is None:
        not_before = not_before.replace(tzinfo=UTC)
    retry_in = retry_delay(
        action.attempts,
        base=settings.webhook_backoff_base_s,
        cap=settings.webhook_backoff_cap_s,
        retry_after=(not_before - now).total_seconds() if not_before else None,
        rand=rand,
    )
    action.next_attempt_at = now + timedelta(seconds=retry_in)
    return Delivery(status, action.attempts, retry_in)


@app.task(bind=True, base=RoutedTask, name="mailroute.deliver_webhook", max_retries=None, acks_late=True)
def deliver_webhook(self: RoutedTask, action_id: int) -> str:
    """Deliver one webhook action; re-scheduled with a countdown while it is FAILED (broker mode only)."""
    eager = self.in_process
    try:
        with session_scope(get_settings().database_url) as session:
            result = deliver(session, action_id)
    except OperationalError as e:  # the database restarting or full: the row is untouched, try again
        if eager:
            log.exception("webhook action %s: database unavailable; left for the sweeper", action_id)
            return "error"
        self.retry_outage(e)
    except Exception:
        if not eager:
            raise
        # in-process, the caller is classification: a webhook problem must not fail it
        log.exception("webhook action %s could not be delivered; left for due_webhooks", action_id)
        return "error"
    if result.retry_in is not None and not eager:
        raise self.retry(countdown=result.retry_in)
    return result.status


def due_webhooks(
    session: Session, *, now: datetime | None = None, stale_after: timedelta = timedelta(minutes=15)
) -> list[int]:
    """FAILED webhooks overdue by ``stale_after`` and PENDING ones untouched that long: ids to queue.

    The safety net for eager mode (pass ``stale_after=timedelta(0)``) and for countdowns a broker
    lost; the grace keeps it from racing a countdown that is about to fire. Wire it to a CLI command
    or a periodic task: commit, then ``worker.tasks.enqueue_actions(ids)``.
    """
    limit = (now or datetime.now(UTC)) - stale_after
    failed_due = and_(
        Action.status == ActionStatus.FAILED,
        or_(Action.next_attempt_at.is_(None), Action.next_attempt_at <= limit),
    )
    stranded = and_(Action.status == ActionStatus.PENDING, Action.updated_at <= limit)
    query = select(Action.id).where(Action.kind == "webhook", or_(failed_due, stranded)).order_by(Action.id)
    return list(session.scalars(query))
