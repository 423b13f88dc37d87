"""The Celery app's process start: only a worker that scores mail loads the model."""

from __future__ import annotations

import pytest

from worker.tasks.app import app, scores_mail


@pytest.fixture(autouse=True)
def queues(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.amqp.queues, "_consume_from", None)  # restored afterwards


def test_a_worker_for_actions_and_webhooks_does_not_load_the_model() -> None:
    app.amqp.queues.select(["actions", "webhooks"])  # what `-Q actions,webhooks` does
    assert not scores_mail(app)


def test_a_classify_worker_or_one_for_every_queue_loads_it() -> None:
    assert scores_mail(app)  # no -Q: every queue
    app.amqp.queues.select(["classify"])
    assert scores_mail(app)
