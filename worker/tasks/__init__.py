"""The Celery wiring: the app, the thin tasks over plain functions, their retry policy, the sweeper.

Importing the package is cheap: a process that only queues work (the poller) uses
:mod:`worker.tasks.producer` and :mod:`worker.tasks.lostwork` without loading the tasks and the
pipeline under them. A Celery worker loads :mod:`worker.tasks.wiring` (the app's ``include``), which
registers every task and executor and checks that each action kind has one; so does the first use of
any name below other than the two producers.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "enqueue_actions",
    "enqueue_classify",
    "enqueue_retrain",
    "install_executors",
    "jobs",
    "learning",
    "webhook_batch",
    "webhooks",
]
PRODUCERS = ("enqueue_actions", "enqueue_classify")


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'worker.tasks' has no attribute {name!r}")
    module = "worker.tasks.producer" if name in PRODUCERS else "worker.tasks.wiring"
    return getattr(importlib.import_module(module), name)
