"""The Celery app's process start: only a worker that scores mail loads the model; the parent preloads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO
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


PRELOAD = """
import json, sys
from worker.tasks.app import _preload, app
from worker.db.session import _engine_for
app.amqp.queues.select(sys.argv[1].split(","))
WATCHED = {"psycopg", "connectors.webhook.client"}
before = WATCHED & set(sys.modules)
_preload()
from sqlalchemy.orm import class_mapper
from worker.db.models import Action
print(json.dumps({
    "before": sorted(before),
    "after": sorted(WATCHED & set(sys.modules)),
    "tls": "connectors.webhook.origin" in sys.modules
    and sys.modules["connectors.webhook.origin"].tls_context.cache_info().currsize,
    "configured": class_mapper(Action).configured,
    "engines": _engine_for.cache_info().currsize,
}))
"""


@pytest.mark.parametrize(("queues", "http"), [("actions,webhooks", True), ("classify", False)])
def test_the_parent_preloads_what_each_child_paid_on_its_first_task(queues: str, http: bool) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROUTE_")} | {
        "MAILROUTE_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        "MAILROUTE_BROKER_URL": "memory://localhost/",
    }
    done = subprocess.run(
        [sys.executable, "-c", PRELOAD, queues], cwd=REPO, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["before"] == []
    assert out["after"] == (["connectors.webhook.client", "psycopg"] if http else ["psycopg"])
    assert out["tls"] == (1 if http else False)  # the CA bundle loaded once, before the fork
    assert out["configured"] and out["engines"] == 0  # nothing connected: no socket crosses the fork
