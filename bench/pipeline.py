"""Pipeline overhead: ingest → decision saved, with the model replaced by the constant scorer.

Two set-ups measured in the same run, on the same synthetic mails:
  * sqlite  — the embedded default: SQLite file, tasks run in-process;
  * postgres — Postgres + Redis broker + a real Celery worker (2 processes), started and warm first.
Prints mails/s for each and the per-stage split (store, parse, score, save) from an in-process pass.

    python bench/pipeline.py [N_MAILS]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from common import (
    REDIS,
    REPO,
    create_database,
    drop_database,
    start_worker,
    stop_worker,
    synthetic_mail,
    wait_until,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
RULES = REPO / "rules" / "examples" / "office.yaml"


def count_decided(url: str) -> int:
    from sqlalchemy import func, select

    from worker.db.models import Decision
    from worker.db.session import session_factory

    with session_factory(url)() as session:
        return int(session.scalar(select(func.count(Decision.id))) or 0)


def store_all(url: str, mails: list[bytes], tag: str) -> list[list[int]]:
    """Store mails in chunks of 32 (one transaction each, as the poller does); return id batches."""
    from worker.db.session import session_factory
    from worker.store.messages import Origin, store_messages

    batches = []
    sessions = session_factory(url)
    for start in range(0, len(mails), 32):
        with sessions.begin() as session:
            chunk = mails[start : start + 32]
            items = [(raw, Origin("bench", tag, 1, start + i + 1)) for i, raw in enumerate(chunk)]
            batches.append([stored.id for stored in store_messages(session, items)])
    return batches


def run_sqlite(mails: list[bytes]) -> tuple[float, dict[str, float]]:
    """Embedded default: store then classify in-process; returns (mails/s, stage seconds)."""
    from worker.cli.db import upgrade
    from worker.core.settings import Settings
    from worker.db.session import session_factory
    from worker.pipeline.classify import classify_batch
    from worker.pipeline.runtime import build_runtime
    from worker.scoring.backends.constant import ConstantScorer

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url=url)
        runtime = build_runtime(
            Settings(database_url=url, rules_path=RULES, backend="constant"), scorer=ConstantScorer()
        )
        stages = {"store_s": 0.0, "parse_s": 0.0, "score_s": 0.0, "save_s": 0.0}
        started = time.perf_counter()
        sessions = session_factory(url)
        for start in range(0, len(mails), 32):
            t0 = time.perf_counter()
            (ids,) = store_all(url, mails[start : start + 32], f"sqlite-{start}")
            stages["store_s"] += time.perf_counter() - t0
            t1 = time.perf_counter()
            with sessions.begin() as session:
                result = classify_batch(session, ids, runtime.scorer, runtime.rule_set)
            for key in ("parse_s", "score_s"):
                stages[key] += result.timings.get(key, 0.0)
            stages["save_s"] += (
                time.perf_counter() - t1 - result.timings.get("parse_s", 0) - result.timings.get("score_s", 0)
            )
        elapsed = time.perf_counter() - started
        assert count_decided(url) == len(mails)
        return len(mails) / elapsed, stages


def count_actions(url: str, *, done: bool) -> int:
    """All outbox rows, or only those that reached a final state."""
    from sqlalchemy import func, select

    from worker.db.models import Action
    from worker.db.session import session_factory

    query = select(func.count(Action.id))
    if done:
        query = query.where(Action.status.in_(["done", "skipped", "dead"]))
    with session_factory(url)() as session:
        return int(session.scalar(query) or 0)


def run_postgres(mails: list[bytes]) -> tuple[float, float]:
    """Postgres + Redis + warm Celery workers; returns (mails/s decided, outbox actions/s).

    Decisions: a 2-process worker on the classify queue, timed from the first store to the last
    decision, the mails stored and queued in chunks of 32 as the poller does. Actions: afterwards,
    a 2-process worker on the actions queues, timed between the first and last finished row.
    """
    import redis

    from worker.cli.db import upgrade

    url = create_database()
    broker = f"{REDIS}/14"
    redis.Redis.from_url(broker).flushdb()
    env = {
        "MAILROUTE_DATABASE_URL": url,
        "MAILROUTE_BROKER_URL": broker,
        "MAILROUTE_BACKEND": "constant",
        "MAILROUTE_RULES_PATH": str(RULES),
    }
    os.environ.update(env)
    from worker.core.settings import get_settings

    get_settings.cache_clear()
    workers = []
    try:
        upgrade(url=url)
        workers.append(start_worker(env, queues="classify"))
        from worker.tasks.app import make_app

        app = make_app()
        # warm-up: one batch through the worker before the clock starts
        (warm,) = store_all(url, [synthetic_mail(10**6 + i) for i in range(8)], "warm")
        app.send_task("mailroute.classify", args=[warm], queue="classify")
        assert wait_until(lambda: count_decided(url) >= 8, 120), "worker did not start"
        started = time.perf_counter()
        for start in range(0, len(mails), 32):
            (ids,) = store_all(url, mails[start : start + 32], f"pg-{start}")
            app.send_task("mailroute.classify", args=[ids], queue="classify")
        assert wait_until(lambda: count_decided(url) >= len(mails) + 8, 600), "not all mails decided"
        elapsed = time.perf_counter() - started
        n_actions = count_actions(url, done=False)
        workers.append(start_worker(env, queues="actions,webhooks"))
        assert wait_until(lambda: count_actions(url, done=True) >= n_actions, 600), "actions not all run"
        return len(mails) / elapsed, n_actions / action_span_s(url)
    finally:
        for worker in workers:
            stop_worker(worker)
        drop_database(url)


def action_span_s(url: str) -> float:
    """Seconds between the first and the last outbox row to finish."""
    from sqlalchemy import func, select

    from worker.db.models import Action
    from worker.db.session import session_factory

    with session_factory(url)() as session:
        first, last = session.execute(select(func.min(Action.updated_at), func.max(Action.updated_at))).one()
    return max((last - first).total_seconds(), 1e-3)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    mails = [synthetic_mail(i) for i in range(n)]
    sqlite_rate, stages = run_sqlite(mails)
    total = sum(stages.values())
    print(f"sqlite (in-process): {n} mails, {sqlite_rate:.0f} mails/s")
    for key, value in stages.items():
        print(f"  {key[:-2]:>6}: {1000 * value / n:.2f} ms/mail ({100 * value / total:.0f}%)")
    pg_rate, actions_rate = run_postgres([synthetic_mail(n + i) for i in range(n)])
    print(f"postgres+redis (Celery worker, 2 processes): {n} mails, {pg_rate:.0f} mails/s decided")
    print(f"  outbox afterwards (actions worker, 2 processes): {actions_rate:.0f} actions/s")
    print(f"ratio postgres/sqlite: {pg_rate / sqlite_rate:.2f}")
    print(f"RESULT sqlite_mails_per_s={sqlite_rate:.1f} postgres_mails_per_s={pg_rate:.1f}")


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    main()
