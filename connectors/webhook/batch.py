"""Concurrent POSTs for a batch of webhook deliveries, a bounded number in flight per endpoint.

A webhook is I/O: one worker process that POSTs one at a time spends nearly all its time waiting on
the receiver. :func:`post_all` sends a batch's prepared requests from the process's thread pool, with at most
``limit`` in flight per endpoint in this process (a semaphore shared by every batch the process runs),
so one receiver is never flooded and a slow one does not starve the others. A batch gives each endpoint
``limit`` lanes, each POSTing that endpoint's requests one after another from a shared queue (a slow
request holds up only its lane): a thread per request left most threads waiting on the semaphore, and
their wake-ups cost CPU. Only the HTTP round trip
runs in the threads: the rows are read, and the outcomes written, by the caller in its one
transaction.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from connectors.webhook.client import Reply
from connectors.webhook.endpoints import Endpoint

POOL_THREADS = 32  # this process's POSTs in flight, all endpoints together (queued beyond)
_limits: dict[str, threading.BoundedSemaphore] = {}
_limits_lock = threading.Lock()
_limits_pid = 0
_pool: ThreadPoolExecutor | None = None
_pool_pid = 0


@dataclass(frozen=True)
class Request:
    """One signed POST, ready to send."""

    endpoint: Endpoint
    body: bytes
    headers: dict[str, str] = field(repr=False)


Sent = tuple[Reply | Exception, float]  # the response (or what the POST raised), its ms


def endpoint_limit(target: str, limit: int) -> threading.BoundedSemaphore:
    """This process's semaphore for one endpoint (shared by every batch the process runs)."""
    global _limits_pid
    with _limits_lock:
        if _limits_pid != os.getpid():  # a forked child must not inherit a parent's held permits
            _limits.clear()
            _limits_pid = os.getpid()
        return _limits.setdefault(target, threading.BoundedSemaphore(limit))


def thread_pool() -> ThreadPoolExecutor:
    """This process's POST threads, kept between batches (a pool per batch started up to 32 threads
    for every batch of 32); a new pool after a fork, whose threads stay behind."""
    global _pool, _pool_pid
    with _limits_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="webhook")
            _pool_pid = os.getpid()
        return _pool


def post_all(requests: Mapping[int, Request], post: Callable[..., Reply], *, limit: int) -> dict[int, Sent]:
    """POST every request (id → request) concurrently; id → (response or exception, duration in ms)."""

    def one(item: tuple[int, Request]) -> tuple[int, Sent]:
        key, request = item
        with endpoint_limit(request.endpoint.name, limit):
            started = time.perf_counter()
            try:
                response: Reply | Exception = post(
                    request.endpoint.url,
                    content=request.body,
                    headers=request.headers,
                    timeout=request.endpoint.timeout_s,
                )
            except Exception as e:  # mapped onto retry / dead by the caller, row by row
                response = e
            return key, (response, (time.perf_counter() - started) * 1000)

    queues: dict[str, queue.SimpleQueue[tuple[int, Request]]] = {}
    for item in requests.items():
        queues.setdefault(item[1].endpoint.name, queue.SimpleQueue()).put(item)
    if min(len(requests), limit * len(queues)) <= 1:
        return dict(one(item) for item in requests.items())

    def lane(pending: queue.SimpleQueue[tuple[int, Request]]) -> list[tuple[int, Sent]]:
        """One of an endpoint's ``limit`` lanes: POSTs its requests one after another until none are left."""
        done = []
        while True:
            try:
                done.append(one(pending.get_nowait()))
            except queue.Empty:
                return done

    lanes = [q for q in queues.values() for _ in range(min(limit, q.qsize()))]
    sent = dict(item for done in thread_pool().map(lane, lanes) for item in done)
    return {key: sent[key] for key in requests}  # in the caller's order
