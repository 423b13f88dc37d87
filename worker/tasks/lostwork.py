"""Notice work the broker lost and re-queue it within about a minute, not after the 5-minute sweep.

A Redis without persistence forgets every queued task when it restarts; a worker killed with tasks
prefetched or waiting out a countdown takes them along until the visibility timeout (an hour). The
database ledger still has every such mail (RECEIVED/FAILED) and action (PENDING/FAILED), so
:class:`LostWorkWatch` checks the broker every :data:`CHECK_EVERY_S` seconds and sweeps when

* the broker restarted (its ``run_id`` changed) and its queues are empty: everything pending may be
  gone, so it sweeps at once, whatever its age;
* every queue is empty while rows older than :data:`LOST_AFTER_S` are still pending: nothing is
  waiting for a worker, so those rows are lost (or in a worker right now, see below).

A queue that is not empty means the broker still holds work, and nothing is swept (the 5-minute
sweep still runs). Re-queuing work that was in fact in flight is harmless: a decided mail is skipped
and every effect is guarded by its ledger row, so the effects stay exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from worker.core.settings import QUEUES
from worker.tasks.sweeper import Stale, sweep

log = logging.getLogger(__name__)
CHECK_EVERY_S = 15.0
LOST_AFTER_S = 60.0


def redis_client(broker_url: str | None) -> Any | None:
    """A Redis client for ``broker_url``, or None when the broker is not Redis (eager, memory)."""
    if not broker_url or not broker_url.startswith(("redis://", "rediss://")):
        return None
    import redis

    return redis.Redis.from_url(broker_url, socket_timeout=5, socket_connect_timeout=5)


class LostWorkWatch:
    """Remembers the broker's ``run_id`` and decides, each check, whether to sweep and how old."""

    def __init__(self, client: Any, *, lost_after_s: float = LOST_AFTER_S) -> None:
        self.client = client
        self.lost_after_s = lost_after_s
        self.run_id: str | None = None

    def sweep_age(self) -> float | None:
        """Seconds of age from which pending rows count as lost now; None: nothing to do."""
        run_id = str(self.client.info("server")["run_id"])
        restarted = self.run_id is not None and run_id != self.run_id
        self.run_id = run_id
        if any(int(self.client.llen(queue)) for queue in QUEUES):
            return None
        if restarted:
            log.warning("broker restarted with empty queues; re-queuing every unfinished mail and action")
            return 0.0
        return self.lost_after_s

    def check(self, session_scope: Callable[[], Any], *, batch_size: int = 32) -> Stale | None:
        """One check: sweep if the broker lost work; broker errors are logged, never raised."""
        try:
            age = self.sweep_age()
        except Exception as e:  # the broker is down right now: the next check sees it come back
            log.info("lost-work check: broker unreachable (%s)", type(e).__name__)
            return None
        if age is None:
            return None
        with session_scope() as session:
            stale = sweep(session, older_than_s=age, batch_size=batch_size)
        if stale.message_ids or stale.action_ids:
            log.warning(
                "re-queued lost work: %d mails, %d actions", len(stale.message_ids), len(stale.action_ids)
            )
        return stale


def queues_empty(broker_url: str | None) -> bool:
    """True when the broker is Redis and holds no queued task (``mailroute requeue``'s default)."""
    client = redis_client(broker_url)
    if client is None:
        return False
    return not any(int(client.llen(queue)) for queue in QUEUES)
