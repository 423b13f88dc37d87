"""The retry policy of every task, in one place.

Three kinds of failure, three answers:

* a named transient error (network, broker, a server's 5xx, the database restarting): retried by
  Celery with exponential backoff and jitter — :data:`TRANSIENT` is spread into ``@app.task``;
* a database outage inside a batch task that handles its own rows: :meth:`RoutedTask.retry_outage`
  (capped exponential countdown);
* a receiver that asks to wait (webhooks): :func:`retry_delay`, full jitter with Retry-After as a floor.

In-process (eager mode, no broker) a retry would run inline and its ``Retry`` would escape into the
caller (the poller, ingest), so :attr:`RoutedTask.in_process` lets a task leave the row to the sweeper.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, NoReturn

from celery import Task
from sqlalchemy.exc import OperationalError

from worker.core.errors import BackendError, TransientError

# Kept under the broker's visibility timeout (3600 s): a longer countdown gets redelivered early by Redis.
MAX_RETRY_AFTER_S = 1800.0
OUTAGE_CAP_S = 60

# Spread into @app.task(...): OperationalError is the database restarting or full; the work rolled back.
TRANSIENT: dict[str, Any] = {
    "autoretry_for": (TransientError, OSError, OperationalError),
    "retry_backoff": 2,
    "retry_jitter": True,
}
TRANSIENT_OR_BACKEND: dict[str, Any] = {
    **TRANSIENT,
    "autoretry_for": (TransientError, BackendError, OSError, OperationalError),
}


def outage_countdown(retries: int) -> int:
    """Seconds before retry ``retries + 1`` after a database outage: 2, 4, 8 … capped at a minute."""
    return int(min(OUTAGE_CAP_S, 2 ** (retries + 1)))


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds before try ``attempt + 1``: full jitter, uniform in [0, min(cap, base * 2**(attempt-1))].

    Full jitter spreads a burst of failures so they do not return together; a Retry-After is a floor
    (clamped to MAX_RETRY_AFTER_S) because the receiver said when it can cope again.
    """
    delay = rand() * min(cap, base * 2 ** max(0, attempt - 1))
    if retry_after is not None:
        delay = max(delay, min(max(0.0, retry_after), MAX_RETRY_AFTER_S))
    return delay


class RoutedTask(Task):
    """Base class of mailroute's bound tasks: the retry helpers every task shares."""

    @property
    def in_process(self) -> bool:
        """True when the task runs eagerly in the caller's process (no broker)."""
        return bool(self.request.is_eager)

    def retry_outage(self, exc: BaseException) -> NoReturn:
        """Retry after a database outage with a capped exponential countdown."""
        raise self.retry(exc=exc, countdown=outage_countdown(self.request.retries)) from exc
