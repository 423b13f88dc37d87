"""A real worker across broker restarts: it survives while holding a countdown task, and work that a
non-persistent Redis lost is re-queued within about a minute (the lost-work watch), each effect once.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.chaos.conftest import audit, chaos_mail, producer, use_env, worker_env
from tests.chaos.services import PrivateRedis, kill_group, start_worker, wait_for
from tests.chaos.test_worker_faults import check_ledger
from tests.connectors.receiver import Receiver, Reply, receiver
from worker.db.models import Decision
from worker.db.session import session_factory
from worker.store.messages import Origin, store_messages

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver(Reply(200)) as server:
        yield server


def store(db: str, n: int, tag: str) -> list[int]:
    with session_factory(db).begin() as session:
        items = [(chaos_mail(i, tag), Origin("acct", "INBOX", 1, i + 1)) for i in range(n)]
        return [stored.id for stored in store_messages(session, items)]


def decisions(db: str, ids: list[int]) -> int:
    with session_factory(db)() as session:
        query = select(func.count(Decision.id)).where(Decision.message_id.in_(ids), Decision.mode == "live")
        return int(session.scalar(query) or 0)


def test_worker_holding_a_countdown_task_survives_a_redis_restart(
    postgres_url: str, persistent_redis: PrivateRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a visibility timeout longer than the countdown: only a lost task is ever redelivered
    env = worker_env(postgres_url, persistent_redis.url, tmp_path, MAILROUTE_BROKER_VISIBILITY_TIMEOUT_S="15")
    use_env(monkeypatch, env)
    monkeypatch.setitem(producer().conf, "broker_transport_options", {"visibility_timeout": 15})
    ids = store(postgres_url, 1, "countdown")
    log = tmp_path / "worker.log"
    proc = start_worker(env, log)
    try:
        assert wait_for(lambda: "ready." in log.read_text(), 60, 0.2), log.read_text()[-3000:]
        task_id = producer().send_task("mailroute.classify", args=[ids], queue="classify", countdown=6).id
        assert wait_for(lambda: f"[{task_id}] received" in log.read_text(), 30, 0.1), log.read_text()[-3000:]
        persistent_redis.restart(down_s=1.0)  # the worker holds the task unacknowledged, waiting its ETA
        assert wait_for(lambda: decisions(postgres_url, ids) == 1, 90, 0.5), log.read_text()[-4000:]
        time.sleep(20)  # past the visibility timeout: a second delivery would have run by now
        assert proc.poll() is None, "the worker died on the broker restart:\n" + log.read_text()[-4000:]
    finally:
        kill_group(proc, signal.SIGTERM)
    text = log.read_text()
    assert "Unrecoverable error" not in text, text[-4000:]
    assert text.count(f"[{task_id}] succeeded") == 1, text[-4000:]
    assert decisions(postgres_url, ids) == 1


def test_work_lost_with_redis_is_requeued_within_90_s(
    postgres_url: str,
    private_redis: PrivateRedis,
    hook: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from worker.db.session import session_scope
    from worker.tasks.lostwork import CHECK_EVERY_S, LostWorkWatch, redis_client

    n = 64
    env = worker_env(
        postgres_url, private_redis.url, tmp_path, hook_url=hook.url, MAILROUTE_CONSTANT_DELAY_MS="200"
    )
    use_env(monkeypatch, env)
    ids = store(postgres_url, n, "lost")
    app = producer()
    for start in range(0, n, 8):
        app.send_task("mailroute.classify", args=[ids[start : start + 8]], queue="classify")
    watch = LostWorkWatch(redis_client(private_redis.url))
    stop = threading.Event()

    def poller_loop() -> None:  # what `mailroute poll` runs between its watchers, every CHECK_EVERY_S
        while not stop.wait(CHECK_EVERY_S):
            watch.check(lambda: session_scope(postgres_url), batch_size=8)

    watch.check(lambda: session_scope(postgres_url))  # remembers the broker's run_id; queue not empty
    loop = threading.Thread(target=poller_loop, daemon=True)
    loop.start()
    log = tmp_path / "worker.log"
    proc = start_worker(env, log)
    try:
        assert wait_for(lambda: decisions(postgres_url, ids) > 0, 90, 0.1), log.read_text()[-3000:]
        private_redis.restart(down_s=1.0)  # no persistence: every queued task is gone
        lost_at = time.monotonic()
        assert decisions(postgres_url, ids) < n, "the restart should have dropped queued work"

        def finished() -> bool:
            result = audit(postgres_url)
            return result.decided >= n and not result.stuck

        assert wait_for(finished, 90, 0.5), audit(postgres_url).summary()
        elapsed = time.monotonic() - lost_at
        wait_for(lambda: len(hook.requests) >= n, 10, 0.2)
        assert proc.poll() is None, "the worker must survive the broker restart"
    finally:
        stop.set()
        kill_group(proc, signal.SIGTERM)
    print(f"lost work settled {elapsed:.1f} s after the broker restart")
    assert elapsed < 90
    check_ledger(postgres_url, n, hook)
