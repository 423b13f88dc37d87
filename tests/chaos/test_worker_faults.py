"""A real Celery worker under faults: kill -9 mid-batch (repeated), Redis restarted with a full queue,
Postgres restarted under load. After each: one decision per mail, each effect once, nothing stuck.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.chaos.conftest import (
    audit,
    chaos_mail,
    check_webhook_effects,
    producer,
    sweep_now,
    use_env,
    worker_env,
)
from tests.chaos.services import PrivatePostgres, PrivateRedis, kill_group, start_worker, wait_for
from tests.connectors.receiver import Receiver, Reply, receiver
from worker.db.models import Decision
from worker.db.session import session_factory
from worker.store.messages import Origin, store_messages

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.timeout(300)]
BATCH = 8


def store_and_queue(db: str, n: int, tag: str) -> list[int]:
    with session_factory(db).begin() as session:
        items = [(chaos_mail(i, tag), Origin("acct", "INBOX", 1, i + 1)) for i in range(n)]
        ids = [stored.id for stored in store_messages(session, items)]
    app = producer()
    for start in range(0, n, BATCH):
        app.send_task("mailroute.classify", args=[ids[start : start + BATCH]], queue="classify")
    return ids


def decided(db: str) -> int:
    try:
        with session_factory(db)() as session:
            return int(session.scalar(select(func.count(Decision.id))) or 0)
    except Exception:  # the database is down right now
        return -1


def settle(db: str, n: int, hook: Receiver | None, *, timeout: float = 120) -> None:
    """Wait for every mail to be decided and every action finished, sweeping once if work was lost."""

    def finished() -> bool:
        result = audit(db)
        return result.decided >= n and not result.stuck

    if not wait_for(finished, timeout / 2, 0.5):
        sweep_now(db)  # what `mailroute requeue` / the poller's periodic sweep does
        assert wait_for(finished, timeout / 2, 0.5), audit(db).summary()
    if hook is not None:  # the receiver sees the last POST a moment before the row commits
        wait_for(lambda: len(hook.requests) >= n, 10, 0.2)


def check_ledger(db: str, n: int, hook: Receiver | None) -> None:
    result = audit(db)
    assert result.messages == n, result.summary()
    assert result.decided == n and result.duplicate_decisions == 0, result.summary()
    assert result.duplicate_actions == 0 and result.actions == 2 * n, result.summary()
    assert not result.stuck, result.summary()
    assert result.actions_done == result.actions, result.summary()
    if hook is not None:
        check_webhook_effects(result, [r.headers["idempotency-key"] for r in hook.requests])


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver(Reply(200)) as server:
        yield server


def test_worker_kill_9_mid_batch_repeatedly(
    postgres_url: str,
    private_redis: PrivateRedis,
    hook: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    n = 96
    # each batch scores for 0.6 s, so a kill 0.1-0.3 s after a decision lands inside the next batches
    # (with 150 ms a fast machine finished all 96 mails within the three rounds)
    env = worker_env(
        postgres_url, private_redis.url, tmp_path, hook_url=hook.url, MAILROUTE_CONSTANT_DELAY_MS="600"
    )
    use_env(monkeypatch, env)
    store_and_queue(postgres_url, n, "kill")
    log = tmp_path / "worker.log"
    for round_ in range(3):  # kill -9 the whole worker (parent and children) mid-batch, three times
        proc = start_worker(env, log)
        before = decided(postgres_url)
        assert wait_for(lambda b=before: decided(postgres_url) > b, 90, 0.1), log.read_text()[-3000:]
        time.sleep(0.1 + 0.1 * round_)
        assert decided(postgres_url) < n, f"round {round_}: the run finished before the kill"
        kill_group(proc, signal.SIGKILL)
    proc = start_worker(env, log)
    try:
        settle(postgres_url, n, hook)
    finally:
        kill_group(proc, signal.SIGTERM)
    check_ledger(postgres_url, n, hook)


def test_redis_restarted_with_a_full_queue(
    postgres_url: str,
    private_redis: PrivateRedis,
    hook: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    n = 96
    env = worker_env(
        postgres_url, private_redis.url, tmp_path, hook_url=hook.url, MAILROUTE_CONSTANT_DELAY_MS="200"
    )
    use_env(monkeypatch, env)
    store_and_queue(postgres_url, n, "redis")
    assert private_redis.queue_length() == n // BATCH
    log = tmp_path / "worker.log"
    proc = start_worker(env, log)
    try:
        assert wait_for(lambda: decided(postgres_url) > 0, 90, 0.1), log.read_text()[-3000:]
        private_redis.restart(down_s=1.0)  # no persistence: every queued task is gone
        assert private_redis.queue_length() == 0
        time.sleep(3)  # the worker reconnects by itself
        assert decided(postgres_url) < n, "the restart should have dropped queued work"
        # the DB ledger still knows every undecided mail and unfinished action: sweep re-queues them
        settle(postgres_url, n, hook)
        assert proc.poll() is None, "the worker must survive the broker restart"
    finally:
        kill_group(proc, signal.SIGTERM)
    check_ledger(postgres_url, n, hook)


def test_postgres_restarted_under_load(
    private_postgres: PrivatePostgres,
    private_redis: PrivateRedis,
    hook: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from worker.cli.db import upgrade

    n = 96
    db = private_postgres.create_database()
    upgrade(url=db)
    env = worker_env(db, private_redis.url, tmp_path, hook_url=hook.url, MAILROUTE_CONSTANT_DELAY_MS="150")
    use_env(monkeypatch, env)
    store_and_queue(db, n, "pg")
    log = tmp_path / "worker.log"
    proc = start_worker(env, log)
    try:
        for _ in range(2):  # an immediate (crash-like) restart, twice, while batches are being written
            before = max(0, decided(db))
            assert wait_for(lambda b=before: decided(db) > b, 90, 0.1), log.read_text()[-3000:]
            private_postgres.restart(down_s=2.0)
        settle(db, n, hook, timeout=180)
        assert proc.poll() is None, "the worker must survive the database restart"
    finally:
        kill_group(proc, signal.SIGTERM)
    check_ledger(db, n, hook)
