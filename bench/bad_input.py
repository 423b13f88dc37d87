"""The bad-input corpus through a real Celery worker: does it survive, and how much memory does it take?

Stores the ~222 generated hostile mails of tests/corpus/badmail.py (50 MB attachment, zip bombs,
10^5 nested tags, 1,000-level nesting, ...) in a fresh Postgres database, queues them in batches of 8
to a real worker (2 processes) on a private Redis, and samples the resident memory of every worker
process 5 times a second. A worker child that dies shows up as a new child pid.

    python bench/bad_input.py [--backend constant|embedding]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from common import REPO, create_database, drop_database

from tests.chaos.services import PrivateRedis, kill_group, start_worker, wait_for
from tests.corpus.badmail import bad_mails


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="constant", choices=["constant", "embedding"])
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()

    import psutil
    from sqlalchemy import func, select

    from worker.cli.db import upgrade
    from worker.core.settings import get_settings
    from worker.db.models import Message, MessageStatus
    from worker.db.session import session_factory
    from worker.store.messages import Origin, store_messages
    from worker.tasks.app import make_app

    tmp = Path(tempfile.mkdtemp(prefix="mailroute-badinput-"))
    broker = PrivateRedis()
    broker.start()
    db = create_database()
    upgrade(url=db)
    env = {
        "MAILROUTE_DATABASE_URL": db,
        "MAILROUTE_BROKER_URL": broker.url,
        "MAILROUTE_BACKEND": args.backend,
        "MAILROUTE_RULES_PATH": str(REPO / "rules" / "examples" / "office.yaml"),
        "OMP_NUM_THREADS": "1",
    }
    import os

    os.environ.update(env)
    get_settings.cache_clear()
    worker = start_worker(env, tmp / "worker.log")
    peak: dict[int, float] = {}
    pids: set[int] = set()
    stop = threading.Event()

    def sample() -> None:
        parent = psutil.Process(worker.pid)
        while not stop.is_set():
            try:
                for proc in [parent, *parent.children()]:
                    pids.add(proc.pid)
                    peak[proc.pid] = max(peak.get(proc.pid, 0.0), proc.memory_info().rss / 2**20)
            except psutil.Error:
                pass
            stop.wait(0.2)

    threading.Thread(target=sample, daemon=True).start()
    try:
        assert wait_for(lambda: "ready" in (tmp / "worker.log").read_text(errors="replace"), 300, 0.5)
        time.sleep(1)
        first_pids = set(pids)
        sessions = session_factory(db)
        ids: list[int] = []
        for i, (_, raw) in enumerate(bad_mails(heavy=True)):
            with sessions.begin() as session:
                ids.append(store_messages(session, [(raw, Origin("corpus", "INBOX", 1, i + 1))])[0].id)
        app = make_app()
        started = time.time()
        for start in range(0, len(ids), 8):
            app.send_task("mailroute.classify", args=[ids[start : start + 8]], queue="classify")

        def settled() -> bool:
            with sessions() as s:
                return not s.scalar(
                    select(func.count(Message.id)).where(Message.status == MessageStatus.RECEIVED)
                )

        finished = wait_for(settled, args.timeout, 0.5)
        elapsed = time.time() - started
        with sessions() as s:
            by_status = dict(s.execute(select(Message.status, func.count()).group_by(Message.status)).all())
            failed_without_error = s.scalar(
                select(func.count(Message.id)).where(
                    Message.status == MessageStatus.FAILED, Message.error.is_(None)
                )
            )
        stop.set()
        deaths = len(pids - first_pids)
        print(
            f"mails={len(ids)} finished={finished} in {elapsed:.1f}s statuses={by_status} "
            f"failed_without_error={failed_without_error} worker_child_deaths={deaths}"
        )
        print("peak RSS MiB per worker process:", {pid: round(v) for pid, v in peak.items()})
        print(
            f"RESULT bad_input backend={args.backend} mails={len(ids)} decided={by_status.get('decided', 0)} "
            f"failed_with_error={by_status.get('failed', 0)} lost={by_status.get('received', 0)} "
            f"worker_deaths={deaths} peak_rss_mib={round(max(peak.values()))}"
        )
    finally:
        stop.set()
        kill_group(worker, 15)
        broker.stop()
        drop_database(db)


if __name__ == "__main__":
    main()
