"""post_all: a batch's POSTs run on the process's thread pool, kept from one batch to the next."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from connectors.webhook import batch
from connectors.webhook.batch import Request, post_all, thread_pool
from connectors.webhook.client import Reply
from connectors.webhook.endpoints import Endpoint
from tests.connectors.receiver import http_reply

ENDPOINT = Endpoint("pool-test", "http://127.0.0.1:9/pool", secret=b"s3cret")  # its own semaphore


def _requests(n: int) -> dict[int, Request]:
    return {i: Request(ENDPOINT, b"{}", {}) for i in range(n)}


def _pool_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("webhook")}


def test_batches_reuse_the_same_threads_and_keep_their_order() -> None:
    posted: set[int] = set()

    def post(url: str, **_: Any) -> Reply:
        posted.add(threading.get_ident())
        time.sleep(0.02)
        return http_reply(200)

    started: list[set[threading.Thread]] = []
    for _ in range(2):
        sent = post_all(_requests(12), post, limit=4)
        assert list(sent) == list(range(12)) and all(r.status_code == 200 for r, _ in sent.values())
        started.append(_pool_threads())
    assert started[0] and started[1] == started[0]  # the second batch started no thread
    assert posted and threading.get_ident() not in posted  # they ran on the pool, not inline


def test_a_forked_process_gets_a_pool_of_its_own(monkeypatch: Any) -> None:
    pool = thread_pool()
    assert thread_pool() is pool
    monkeypatch.setattr(batch, "_pool_pid", os.getpid() + 1)  # as a forked child sees it
    fresh = thread_pool()
    assert fresh is not pool and thread_pool() is fresh
