"""Queueing work by task name: what a process that only produces work (the poller) needs of Celery.

With a broker, :func:`enqueue_classify` and :func:`enqueue_actions` send the tasks by name, routed by
the app's configuration like ``task.delay`` would; the tasks and what they import (pipeline, scoring,
outbox, connectors) are never loaded here — in a poller that was most of its start-up. With no broker
(the embedded default) the tasks run in this process, so they are loaded (:mod:`worker.tasks.wiring`)
on the first call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select

from worker.db.models import Action
from worker.db.session import session_scope
from worker.tasks.app import app

CLASSIFY = "mailroute.classify"
APPLY_ACTIONS = "mailroute.apply_actions"
DELIVER_WEBHOOKS = "mailroute.deliver_webhooks"
ACTION_BATCH = 64  # outbox rows per apply_actions task
WEBHOOK_BATCH = 32  # webhook actions per deliver_webhooks task, delivered concurrently


def send(name: str, ids: Sequence[int]) -> None:
    """Queue task ``name`` on ``ids``; in-process (no broker) it runs now, as ``delay`` does there."""
    if app.conf.task_always_eager:
        import worker.tasks.wiring  # noqa: F401 - registers every task and executor

        app.tasks[name].delay(list(ids))
    else:
        app.send_task(name, args=(list(ids),))


def enqueue_classify(message_ids: Sequence[int], *, batch_size: int = 32) -> None:
    """Queue stored messages for classification in batches."""
    ids = list(message_ids)
    for start in range(0, len(ids), batch_size):
        send(CLASSIFY, ids[start : start + batch_size])


def enqueue_actions(action_ids: Sequence[int], *, kinds: Mapping[int, str] | None = None) -> None:
    """Queue actions in batches: webhooks on their own task and queue (delivered concurrently), the rest."""
    if not action_ids:
        return
    if kinds is None:
        with session_scope() as session:
            rows = session.execute(select(Action.id, Action.kind).where(Action.id.in_(list(action_ids))))
            kinds = {id_: kind for id_, kind in rows}
    webhooks = [id_ for id_ in action_ids if kinds.get(id_) == "webhook"]
    others = [id_ for id_ in action_ids if kinds.get(id_) != "webhook"]
    for start in range(0, len(webhooks), WEBHOOK_BATCH):
        send(DELIVER_WEBHOOKS, webhooks[start : start + WEBHOOK_BATCH])
    for start in range(0, len(others), ACTION_BATCH):
        send(APPLY_ACTIONS, others[start : start + ACTION_BATCH])
