"""Prometheus metrics: the registry ``/metrics`` serves, and the scoring latency the workers measure.

The registry holds the pipeline's counts, read from the database at scrape time, and the queue depth
(:mod:`worker.db.scrape`), whether the rules file loads (:class:`RuleSetCollector`) and the scoring
latency.

Only the scoring latency is measured in the workers, as a Histogram. Several worker processes can
share it only through prometheus_client's multiprocess mode: set ``PROMETHEUS_MULTIPROC_DIR`` to an
empty directory writable by every worker and by the admin (wipe it when the workers start), and the
admin's ``/metrics`` aggregates the files. Without it, ``/metrics`` shows the histogram of the admin
process only (non-zero when the playground scores, or in embedded mode where tasks run in-process).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from worker.db.scrape import DatabaseCollector

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
