"""Prometheus metrics.

Counts come from the database at scrape time (:class:`DatabaseCollector`): the database is the
ledger every process writes, so the numbers are right however many workers run, survive restarts,
and need no coordination. Queue depth is read from the Redis broker when one is configured.

Only the scoring latency is measured in the workers, as a Histogram. Several worker processes can
share it only through prometheus_client's multiprocess mode: set ``PROMETHEUS_MULTIPROC_DIR`` to an
empty directory writable by every worker and by the admin (wipe it when the workers start), and the
admin's ``/metrics`` aggregates the files. Without it, ``/metrics`` shows the histogram of the admin
process only (non-zero when the playground scores, or in embedded mode where tasks run in-process).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from worker.core.settings import QUEUES
from worker.db.models import Action, ActionAttempt, Decision, Message, Score

log = logging.getLogger(__name__)

SCORING_SECONDS = Histogram(
    "mailroute_scoring_seconds",
    "Seconds one scoring call (a batch of mails against every label) took.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
SCORED_MAILS_PER_CALL = Histogram(
    "mailroute_scoring_batch_mails", "Mails per scoring call.", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256)
)


def observe_scoring(seconds: float, *, mails: int) -> None:
    """Record one scoring call (the classify step calls this around the scorer)."""
    SCORING_SECONDS.observe(seconds)
    SCORED_MAILS_PER_CALL.observe(mails)


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


class RuleSetCollector(Collector):
    """``mailroute_rules_valid``: 0 while the rules file on disk does not load (routing goes on with
    the last good set), else 1. ``error_of`` re-reads the file and returns its error or None."""

    def __init__(self, error_of: Callable[[], str | None]):
        self.error_of = error_of

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        valid = GaugeMetricFamily(
            "mailroute_rules_valid",
            "1 when the live rules file loads; 0 while routing uses the last good set.",
        )
        valid.add_metric([], 0 if self.error_of() else 1)
        yield valid


def build_registry(
    session_factory: Callable[[], Session],
    broker_url: str | None,
    *,
    rules_error: Callable[[], str | None] | None = None,
) -> CollectorRegistry:
    """The registry ``/metrics`` serves: database counts, the rules file's validity (with
    ``rules_error``) and scoring latency (multiprocess if set up)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(session_factory, broker_url))
    if rules_error is not None:
        registry.register(RuleSetCollector(rules_error))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessCollector())
    return registry


class _ProcessCollector(Collector):
    """This process's own histograms (the scoring latency), read from the default registry."""

    def collect(self) -> Iterator[Metric]:
        for metric in REGISTRY.collect():
            if metric.name.startswith("mailroute_"):
                yield metric
