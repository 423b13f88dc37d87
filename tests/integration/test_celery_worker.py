"""A real Celery worker on the real Redis and Postgres: batches consumed, kill -9 loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import REPO
from worker.db.models import Decision, Message, Score
from worker.db.session import session_factory
from worker.store.messages import Origin, store_message

pytestmark = [pytest.mark.integration, pytest.mark.slow]
N_MAILS = 240
BATCH = 8


def sample(i: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"sender{i}@example.com"
    msg["To"] = "team@example.com"
    msg["Subject"] = f"Status report {i}"
    msg["Message-ID"] = f"<kill-{i}@example.com>"
    msg.set_content(f"Mail number {i}: the server room is warm and the project is on track.")
    return msg.as_bytes()


def worker_env(db: str, broker: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MAILROUTE_DATABASE_URL=db,
        MAILROUTE_BROKER_URL=broker,
        MAILROUTE_BACKEND="constant",
        MAILROUTE_CONSTANT_DELAY_MS="600",  # each batch takes a while, so a kill lands mid-batch
        MAILROUTE_BROKER_VISIBILITY_TIMEOUT_S="5",  # a dead worker's tasks come back quickly
        MAILROUTE_RULES_PATH=str(REPO / "rules" / "examples" / "office.yaml"),
    )
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker",
            "worker",
            "--concurrency=2",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def decided(db: str) -> int:
    with session_factory(db)() as session:
        return int(session.scalar(select(func.count(Decision.id))) or 0)


def wait_for(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_worker_kill_9_mid_batch_loses_nothing_and_decides_once(
    postgres_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = worker_env(postgres_url, redis_url)
    for key in ("MAILROUTE_DATABASE_URL", "MAILROUTE_BROKER_URL", "MAILROUTE_BROKER_VISIBILITY_TIMEOUT_S"):
        monkeypatch.setenv(key, env[key])
    from worker.core.settings import get_settings

    get_settings.cache_clear()
    from worker.tasks.app import make_app

    producer = make_app()
    with session_factory(postgres_url).begin() as session:
        ids = [
            store_message(session, sample(i), Origin("acct", "INBOX", 1, i + 1)).id for i in range(N_MAILS)
        ]
    for start in range(0, N_MAILS, BATCH):
        producer.send_task("mailroute.classify", args=[ids[start : start + BATCH]], queue="classify")

    log = tmp_path / "worker.log"
    kills = 0
    for round_ in range(3):  # kill -9 the whole worker (parent and children) mid-batch, three times
        proc = start_worker(env, log)
        before = decided(postgres_url)
        assert wait_for(lambda b=before: decided(postgres_url) > b, 90), log.read_text()[-3000:]
        time.sleep(0.1 + 0.1 * round_)
        assert decided(postgres_url) < N_MAILS, f"round {round_}: the run finished before the kill"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        kills += 1

    proc = start_worker(env, log)
    try:
        finished = wait_for(lambda: decided(postgres_url) >= N_MAILS, 180)
        assert finished, f"only {decided(postgres_url)} of {N_MAILS} decided\n" + log.read_text()[-3000:]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)

    with session_factory(postgres_url)() as session:
        per_message = session.execute(
            select(Decision.message_id, func.count()).group_by(Decision.message_id)
        ).all()
        assert len(per_message) == N_MAILS and all(n == 1 for _, n in per_message)
        statuses = set(session.scalars(select(Message.status)))
        assert statuses == {"decided"}
        n_scores = session.scalar(select(func.count(Score.id)))
        assert n_scores == N_MAILS * 5  # five office categories, one score row each, none twice
    assert kills == 3
