"""What a ``/metrics`` scrape reads: the pipeline's counts from the database, queue depth from Redis.

The database is the ledger every process writes, so counts derived from it at scrape time are right
however many workers run, survive restarts, and need no coordination. :class:`DatabaseCollector`
answers even when the database is down (``mailroute_database_up`` 0). :mod:`worker.db.telemetry`
puts it in the registry ``/metrics`` serves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from worker.core.settings import QUEUES
from worker.db.models import Action, ActionAttempt, Decision, Message, Score

log = logging.getLogger(__name__)


class DatabaseCollector(Collector):
    """Derives the pipeline's counters and gauges from the database when scraped."""

    def __init__(self, session_factory: Callable[[], Session], broker_url: str | None = None):
        self.session_factory = session_factory
        self.broker_url = broker_url

    def describe(self) -> Iterable[Metric]:
        return []  # metrics are only known at scrape time; never query the database on registration

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("mailroute_database_up", "1 when the metrics query reached the database.")
        try:
            with self.session_factory() as session:
                metrics = list(database_metrics(session))
            up.add_metric([], 1)
        except Exception as e:  # a scrape must answer even when the database is down
            log.warning("metrics: database unavailable: %s", type(e).__name__)
            metrics = []
            up.add_metric([], 0)
        yield up
        yield from metrics
        if self.broker_url and self.broker_url.startswith(("redis://", "rediss://")):
            yield from queue_metrics(self.broker_url)


def database_metrics(session: Session) -> Iterator[Metric]:
    received = CounterMetricFamily("mailroute_messages_received", "Mails stored (each mail once).")
    received.add_metric([], _scalar(session, select(func.count(Message.id))))
    yield received
    by_status = GaugeMetricFamily("mailroute_messages", "Stored mails by status.", labels=["status"])
    for status, count in session.execute(select(Message.status, func.count()).group_by(Message.status)):
        by_status.add_metric([status], count)
    yield by_status
    scored = CounterMetricFamily("mailroute_messages_scored", "Mails with saved scores.")
    scored.add_metric([], _scalar(session, select(func.count(distinct(Score.message_id)))))
    yield scored
    decided = CounterMetricFamily("mailroute_decisions", "Decisions saved.", labels=["mode"])
    for mode, count in session.execute(select(Decision.mode, func.count()).group_by(Decision.mode)):
        decided.add_metric([mode], count)
    yield decided
    review = CounterMetricFamily(
        "mailroute_review", "Live decisions sent to review, by review state.", labels=["state"]
    )
    rows = session.execute(
        select(Decision.review_state, func.count())
        .where(Decision.mode == "live", Decision.needs_review.is_(True))
        .group_by(Decision.review_state)
    )
    for state, count in rows:
        review.add_metric([state], count)
    yield review
    backlog = GaugeMetricFamily("mailroute_review_backlog", "Mails waiting in the review queue.")
    backlog.add_metric(
        [], _scalar(session, select(func.count(Decision.id)).where(Decision.review_state == "pending"))
    )
    yield backlog
    yield from _action_metrics(session)


def _action_metrics(session: Session) -> Iterator[Metric]:
    actions = GaugeMetricFamily(
        "mailroute_actions",
        "Outbox rows by kind, desired state and status.",
        labels=["kind", "desired", "status"],
    )
    rows = session.execute(
        select(Action.kind, Action.desired, Action.status, func.count()).group_by(
            Action.kind, Action.desired, Action.status
        )
    )
    for kind, desired, status, count in rows:
        actions.add_metric([kind, desired, status], count)
    yield actions
    attempts = CounterMetricFamily(
        "mailroute_action_attempts", "Tries of actions by kind and outcome.", labels=["kind", "outcome"]
    )
    webhooks = CounterMetricFamily(
        "mailroute_webhook_deliveries", "Webhook delivery attempts by outcome.", labels=["outcome"]
    )
    outcomes = session.execute(
        select(Action.kind, ActionAttempt.outcome, func.count())
        .join(Action, Action.id == ActionAttempt.action_id)
        .group_by(Action.kind, ActionAttempt.outcome)
    )
    for kind, outcome, count in outcomes:
        attempts.add_metric([kind, outcome], count)
        if kind == "webhook":
            webhooks.add_metric([outcome], count)
    yield attempts
    yield webhooks


def queue_metrics(broker_url: str) -> Iterator[Metric]:
    """Celery queue lengths on a Redis broker (a Redis list per queue)."""
    depth = GaugeMetricFamily("mailroute_queue_depth", "Tasks waiting in the broker.", labels=["queue"])
    try:
        import redis

        client = redis.Redis.from_url(broker_url, socket_connect_timeout=2, socket_timeout=2)
        for queue in QUEUES:
            depth.add_metric([queue], float(client.llen(queue)))
    except Exception as e:
        log.warning("metrics: broker unavailable: %s", type(e).__name__)
        return
    yield depth


def _scalar(session: Session, query: Any) -> int:
    return int(session.scalar(query) or 0)
