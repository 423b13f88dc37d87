"""What a folder watcher survives and how it waits to reconnect: outages, backoff, and its counters.

On any network or server error a watcher reconnects with exponential backoff and jitter
(:class:`Backoff`); :data:`OUTAGES` are the errors of the services below it that it waits out.
:class:`WatchStats` counts its polls, connects and connection losses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from celery.exceptions import Retry
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import InternalError, OperationalError

# The database restarting, full or read-only, and the broker away: wait and retry, never stop polling.
# The cursor only moves with a committed batch, and committed-but-unqueued mail is swept later.
# a database or broker outage; Retry: an in-process (eager) task that asked to be retried later
OUTAGES = (OperationalError, InternalError, BrokerError, Retry)


@dataclass
class Backoff:
    """Exponential backoff with equal jitter: the n-th delay lies in [d/2, d], d = base·2ⁿ ≤ cap."""

    base_s: float = 1.0
    cap_s: float = 300.0
    failures: int = 0

    def next_delay(self) -> float:
        delay = min(self.cap_s, self.base_s * 2**self.failures)
        self.failures += 1
        return delay / 2 + random.uniform(0, delay / 2)

    def reset(self) -> None:
        self.failures = 0


@dataclass
class WatchStats:
    polls: int = 0
    stored: int = 0
    connects: int = 0
    losses: int = 0
    last_wake: float = 0.0  # perf_counter() when IDLE last reported new mail
    errors: list[str] = field(default_factory=list)
