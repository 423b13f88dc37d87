"""A webhook receiver that hangs, resets connections and returns 500s, against a real worker.

Each delivery (by ``Idempotency-Key``) first meets two different failures — a hang past the client
timeout, a TCP reset, an HTTP 500 — and then a 200. A second endpoint answers 500 forever and must
end as a dead letter with its error visible. Checks: every action row finished (done, or dead with
an error), every live delivery received with its key, the retries kept the key, and each attempt
was logged.
"""

from __future__ import annotations

import signal
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.chaos.conftest import HOOK_SECRET, audit, chaos_mail, producer, use_env, worker_env
from tests.chaos.services import PrivateRedis, kill_group, start_worker, wait_for
from tests.connectors.receiver import Received, Receiver, Reply
from worker.db.models import Action, ActionAttempt, ActionStatus
from worker.db.session import session_factory
from worker.store.messages import Origin, store_messages

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.timeout(300)]
FAILURES = [Reply(hang_s=3.0), Reply(reset=True), Reply(500, body=b"busy")]


class FlakyReceiver(Receiver):
    """Answers per delivery key: two failures (rotating kinds), then 200 — or 500 forever on /dead."""

    def __init__(self) -> None:
        super().__init__([Reply()])
        self.tries: Counter[str] = Counter()
        self.lock = threading.Lock()

    def next_reply(self, received: Received) -> Reply:
        key = received.headers.get("idempotency-key", "")
        with self.lock:
            self.requests.append(received)
            self.tries[key] += 1
            n = self.tries[key]
        if received.path.endswith("/dead"):
            return Reply(500, body=b"down for good")
        if n <= 2:
            return FAILURES[(hash(key) + n) % len(FAILURES)]
        return Reply(200)


@pytest.fixture
def flaky() -> Iterator[FlakyReceiver]:
    server = FlakyReceiver()
    server.thread.start()
    yield server
    server.released.set()
    server.server.shutdown()
    server.server.server_close()


RULES = """\
name: chaos-webhooks
policy: {mode: top_k, top_k: 1}
categories:
  - name: alpha
    description: project status, milestones and plans
    actions: [{kind: webhook, target: hook}]
  - name: beta
    description: invoices, payments and orders
    actions: [{kind: webhook, target: dead}]
"""


def test_receiver_hangs_resets_and_fails(
    postgres_url: str,
    private_redis: PrivateRedis,
    flaky: FlakyReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    n = 24
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    hooks = tmp_path / "webhooks.yaml"
    base = flaky.url.rsplit("/", 1)[0]
    hooks.write_text(
        f"endpoints:\n  hook:\n    url: {base}/hook\n    secret: {HOOK_SECRET}\n    timeout_s: 1\n"
        f"    max_attempts: 6\n  dead:\n    url: {base}/dead\n    secret: {HOOK_SECRET}\n    timeout_s: 1\n"
        f"    max_attempts: 3\n"
    )
    env = worker_env(
        postgres_url,
        private_redis.url,
        tmp_path,
        MAILROUTE_RULES_PATH=str(rules),
        MAILROUTE_WEBHOOKS_FILE=str(hooks),
    )
    use_env(monkeypatch, env)
    with session_factory(postgres_url).begin() as session:
        items = [(chaos_mail(i, "hook"), Origin("acct", "INBOX", 1, i + 1)) for i in range(n)]
        ids = [s.id for s in store_messages(session, items)]
    app = producer()
    for start in range(0, n, 8):
        app.send_task("mailroute.classify", args=[ids[start : start + 8]], queue="classify")
    log = tmp_path / "worker.log"
    proc = start_worker(env, log, concurrency=3)
    try:

        def finished() -> bool:
            with session_factory(postgres_url)() as s:
                open_rows = s.scalar(
                    select(func.count(Action.id)).where(
                        Action.status.not_in([ActionStatus.DONE, ActionStatus.DEAD])
                    )
                )
            return audit(postgres_url).decided == n and open_rows == 0

        assert wait_for(finished, 150, 0.5), audit(postgres_url).summary() + log.read_text()[-2000:]
    finally:
        kill_group(proc, signal.SIGTERM)

    result = audit(postgres_url)
    assert result.duplicate_decisions == 0 and result.duplicate_actions == 0
    with session_factory(postgres_url)() as s:
        rows = s.execute(select(Action.id, Action.target, Action.status, Action.key, Action.last_error)).all()
        attempts = dict(
            s.execute(select(ActionAttempt.action_id, func.count()).group_by(ActionAttempt.action_id)).all()
        )
    live = [r for r in rows if r.target == "hook"]
    dead = [r for r in rows if r.target == "dead"]
    assert live and dead, "the hash-based scorer should spread mails over both categories"
    assert all(r.status == ActionStatus.DONE for r in live), [r.status for r in live]
    assert all(r.status == ActionStatus.DEAD and "HTTP 500" in (r.last_error or "") for r in dead)
    for r in live:  # two failures then success: three attempts, one key, logged each time
        assert flaky.tries[r.key] == 3, (r.key, flaky.tries[r.key])
        assert attempts[r.id] == 3
    for r in dead:
        assert flaky.tries[r.key] == 3 and attempts[r.id] == 3
    assert set(flaky.tries) == {r.key for r in rows}, "a delivery arrived that no action row explains"
