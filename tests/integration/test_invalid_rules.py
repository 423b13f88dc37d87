"""Invalid live rules: a real Celery worker keeps routing with the last good set (even in children
started after the edit), and ``mailroute healthcheck rules`` says so (the admin banner and metric:
tests/admin/test_rules_error.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.chaos.conftest import chaos_mail, producer, use_env, worker_env
from tests.chaos.services import PrivateRedis, kill_group, wait_for
from tests.conftest import REPO, require_service
from worker.db.models import Decision, Message
from worker.db.session import session_factory
from worker.pipeline.rulesource import last_good_path
from worker.store.messages import Origin, store_messages

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(240)]
BROKEN = "name: chaos\ncategories: [oops\n"


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    require_service(PrivateRedis.available(), "redis-server")
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


def route(db: str, tag: str, n: int) -> list[int]:
    with session_factory(db).begin() as session:
        items = [(chaos_mail(i, tag), Origin("acct", "INBOX", 1, i + 1)) for i in range(n)]
        ids = [stored.id for stored in store_messages(session, items)]
    producer().send_task("mailroute.classify", args=[ids], queue="classify")
    return ids


def statuses(db: str, ids: list[int]) -> list[str]:
    with session_factory(db)() as session:
        return list(session.scalars(select(Message.status).where(Message.id.in_(ids))))


def labels(db: str, ids: list[int]) -> list[list[str]]:
    with session_factory(db)() as session:
        rows = session.scalars(select(Decision).where(Decision.message_id.in_(ids), Decision.mode == "live"))
        return [list(d.labels or []) for d in rows]


def test_worker_routes_with_the_last_good_rules_after_a_broken_edit(
    postgres_url: str, redis_server: PrivateRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = worker_env(postgres_url, redis_server.url, tmp_path)
    rules = Path(env["MAILROUTE_RULES_PATH"])
    use_env(monkeypatch, env)
    log = tmp_path / "worker.log"
    command = [sys.executable, "-m", "celery", "-A", "worker", "worker", "--concurrency=1"]
    # a fresh child for every task: each one loads the rules itself, after the edit too
    command += ["--max-tasks-per-child=1", "-Qclassify,actions,webhooks", "--loglevel=INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    proc = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **env},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        before = route(postgres_url, "good", 2)
        assert wait_for(lambda: statuses(postgres_url, before) == ["decided"] * 2, 60, 0.2), log.read_text()[
            -3000:
        ]
        rules.write_text(BROKEN)  # a bad edit of the live rules file
        after = route(postgres_url, "broken", 2)
        assert wait_for(lambda: statuses(postgres_url, after) == ["decided"] * 2, 60, 0.2), (
            statuses(postgres_url, after),
            log.read_text()[-3000:],
        )
        assert all(found and set(found) <= {"alpha", "beta"} for found in labels(postgres_url, after))
        assert "is invalid; still routing with the last good one" in log.read_text()

        health = subprocess.run(
            [sys.executable, "-c", "from worker.cli import main; main()", "healthcheck", "rules"],
            cwd=REPO,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert health.returncode == 1, health.stdout + health.stderr
        assert "does not load" in health.stdout and "last good" in health.stdout
    finally:
        kill_group(proc, signal.SIGTERM)
        last_good_path(rules).unlink(missing_ok=True)
