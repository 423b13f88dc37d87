"""Workaround: a Celery worker holding unacknowledged tasks must survive a Redis restart.

kombu 5.x (seen with 5.7.0): when the broker connection drops, Celery's consumer first *collects* the
connection (which detaches the transport from its ``Connection``: ``transport.client = None``) and then
closes it. If the Redis channel was in a BRPOP when Redis went away, the first close raised before
marking the channel closed, so the second close runs the channel's "restore unacknowledged messages"
step, which builds a new Redis client from ``transport.client`` — now ``None`` — and raises
``AttributeError: 'NoneType' object has no attribute 'hostname'``. That is not one of the
connection errors Celery ignores there, so the worker logs "Unrecoverable error" and exits 1. An idle
worker survives because it has nothing to restore; a worker holding a countdown or late-ack task dies.

:func:`install` makes that case a broker *connection error* (what it is: the transport is gone), which
the close path ignores, so the consumer reconnects. Nothing is lost: the unacknowledged messages stay in
Redis's unacked hash (persisted with AOF, as in docker-compose) and kombu's visibility-timeout restore
puts them back in their queue; the worker dropped its own copies on the connection loss, so each task
runs once. Work a non-persistent Redis lost is re-queued from the database ledger (``worker/tasks/
sweeper.py``, ``BrokerWatch``).
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)
_installed = False


def install() -> None:
    """Patch kombu's Redis channel once per process (idempotent; a no-op without the redis transport)."""
    global _installed
    if _installed:
        return
    try:
        from kombu.transport import redis as kombu_redis
    except ImportError:  # pragma: no cover - redis is a dependency
        return
    original = kombu_redis.Channel._connparams

    def _connparams(self: Any, asynchronous: bool = False) -> Any:  # noqa: FBT001,FBT002 - kombu's signature
        if getattr(self.connection, "client", None) is None:
            log.warning("broker connection already closed; unacknowledged tasks stay for redelivery")
            raise kombu_redis.redis.exceptions.ConnectionError("broker transport closed")
        return original(self, asynchronous=asynchronous)

    kombu_redis.Channel._connparams = _connparams  # type: ignore[method-assign]
    _installed = True
