"""Queueing by task name: a producer with a broker never loads the tasks; without one they run here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO

# A poller's imports and one enqueue through an in-memory broker, then what was queued and loaded.
PRODUCE = """
import json, sys
import worker.cli.poll, worker.tasks.lostwork, worker.tasks.sweeper
from worker.tasks import enqueue_classify
from worker.tasks.app import app
from worker.tasks.producer import enqueue_actions

enqueue_classify([1, 2, 3], batch_size=2)
enqueue_actions([7, 8], kinds={7: "webhook", 8: "imap_keyword"})
sent = []
with app.connection_for_read() as connection:
    for queue in ("classify", "webhooks", "actions"):
        simple = connection.SimpleQueue(queue)
        while True:
            try:
                message = simple.get(timeout=0.2)
            except simple.Empty:
                break
            sent.append([queue, message.headers["task"], message.decode()[0][0]])
            message.ack()
print(json.dumps({"sent": sent, "modules": sorted(sys.modules)}))
"""


def test_with_a_broker_work_is_sent_by_name_without_loading_the_tasks() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROUTE_")}
    env |= {"MAILROUTE_BROKER_URL": "memory://localhost/", "MAILROUTE_DATABASE_URL": "sqlite://"}
    done = subprocess.run(
        [sys.executable, "-c", PRODUCE], cwd=REPO, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["sent"] == [
        ["classify", "mailroute.classify", [1, 2]],
        ["classify", "mailroute.classify", [3]],
        ["webhooks", "mailroute.deliver_webhooks", [7]],
        ["actions", "mailroute.apply_actions", [8]],
    ]
    heavy = {"worker.tasks.jobs", "worker.tasks.wiring", "worker.pipeline.classify", "worker.outbox.runner"}
    assert not heavy & set(out["modules"])


def test_every_name_the_package_exports_lazily_resolves() -> None:
    import worker.tasks

    assert worker.tasks.__all__  # the loop below must check something
    for name in worker.tasks.__all__:
        assert getattr(worker.tasks, name) is not None, name
