"""The Celery application (``celery -A worker worker``).

At-least-once delivery with exactly-once effects: tasks are acknowledged late and re-queued if the
worker dies; every effect is guarded by a unique row. With no broker configured, tasks run eagerly
in the calling process (the embedded default).
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import setup_logging, worker_init, worker_process_init
from kombu import Queue

from worker.core.settings import QUEUES, get_settings
from worker.tasks.brokerfix import install as install_broker_fix

install_broker_fix()  # a worker holding unacked tasks survives a Redis restart (see brokerfix)


def make_app() -> Celery:
    settings = get_settings()
    broker = settings.broker_url or "memory://localhost/"
    app = Celery("mailroute", broker=broker, include=["worker.tasks.wiring"])
    app.conf.update(
        task_always_eager=settings.eager,
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue="classify",
        task_queues=[Queue(name) for name in QUEUES],  # a plain worker consumes all three
        task_routes={
            "mailroute.apply_action": {"queue": "actions"},
            "mailroute.apply_actions": {"queue": "actions"},
            "mailroute.deliver_webhook": {"queue": "webhooks"},
            "mailroute.deliver_webhooks": {"queue": "webhooks"},
        },
        broker_transport_options={
            "visibility_timeout": settings.broker_visibility_timeout_s,
            # look for unacknowledged tasks past their visibility timeout every 10 s (kombu's default
            # scans every ~100 s): a task a broker restart or a dead worker left comes back promptly
            "unacked_restore_interval": 10,
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        task_serializer="json",
        accept_content=["json"],
    )
    return app


app = make_app()


def consumes(celery: Celery, queue: str) -> bool:
    """Whether this worker consumes ``queue`` (no ``-Q``: every queue)."""
    consume_from = celery.amqp.queues.consume_from
    return not consume_from or queue in consume_from


def scores_mail(celery: Celery) -> bool:
    """Whether this worker consumes the classify queue (no ``-Q``: every queue, classify included).

    Only classify (and retrain, routed there) use the model: a worker for actions and webhooks never
    loads it — four processes each importing torch and the weights cost seconds of CPU and memory.
    """
    return consumes(celery, "classify")


@worker_init.connect
def _preload(**_: Any) -> None:
    """Before the pool forks: the database driver, the ORM's mappers and (webhooks) the TLS context,
    paid once here instead of by every child on its first task (up to a third of an actions worker's
    CPU in a short backfill)."""
    from worker.db.session import preload

    preload()
    if consumes(app, "webhooks"):
        from connectors.webhook.client import preload as preload_http

        preload_http()


@worker_process_init.connect
def _load_model(**_: Any) -> None:
    """Load the model once per scoring worker process, before the first task arrives."""
    if not scores_mail(app):
        return
    from worker.pipeline.runtime import get_runtime

    get_runtime()


@setup_logging.connect
def _configure_logging(loglevel: int | str | None = None, **_: Any) -> None:
    """Celery leaves logging to mailroute: JSON or plain lines with message ids, secrets redacted.

    The level is MAILROUTE_LOG_LEVEL when set, else celery's ``--loglevel``.
    """
    from worker.core.logs import configure_logging

    settings = get_settings()
    configure_logging(settings, level=None if "log_level" in settings.model_fields_set else loglevel)
