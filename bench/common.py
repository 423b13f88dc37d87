"""Helpers shared by the benchmarks: synthetic mail, temporary databases, a real Celery worker."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PG_ADMIN = os.environ.get("MAILROUTE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("MAILROUTE_TEST_REDIS", "redis://127.0.0.1:6379")

TOPICS = [
    (
        "Server alert: disk usage at 95% on db01",
        "The monitoring system detected high disk usage. Please act.",
    ),
    (
        "Project Atlas: sprint 14 progress",
        "We finished the API milestone; the UI work is on track for Friday.",
    ),
    ("Meeting moved to Thursday 10:00", "The weekly sync is moved to Thursday at 10 in room 4B."),
    ("Question about your pricing", "Hello, we would like a quote for 200 licences and volume discounts."),
    ("URGENT: contract signature needed today", "The customer needs the signed contract before 5 pm today."),
]


def synthetic_mail(i: int, *, size: int = 1) -> bytes:
    """A plausible office mail, unique per ``i``; ``size`` repeats the body paragraph."""
    subject, body = TOPICS[i % len(TOPICS)]
    msg = EmailMessage()
    msg["From"] = f"person{i % 97}@example.com"
    msg["To"] = "team@example.com"
    msg["Subject"] = f"{subject} #{i}"
    msg["Message-ID"] = f"<bench-{i}-{uuid.uuid4().hex[:8]}@example.com>"
    msg.set_content("\n\n".join([f"{body} (ref {i}, {random.random():.6f})"] * size))
    return msg.as_bytes()


def create_database() -> str:
    import psycopg

    name = f"mailroute_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def inline_worker(db: str, rules: Path | str, **env: str) -> None:
    """Make this process run task functions inline on ``db``: migrated, the constant scorer, the rule set
    ``rules``, no broker (plus any other MAILROUTE_* settings in ``env``)."""
    from worker.cli.db import upgrade

    upgrade(url=db)
    os.environ.update(
        MAILROUTE_DATABASE_URL=db, MAILROUTE_BACKEND="constant", MAILROUTE_RULES_PATH=str(rules), **env
    )
    os.environ.pop("MAILROUTE_BROKER_URL", None)
    from worker.core.settings import get_settings

    get_settings.cache_clear()


def drop_database(url: str) -> None:
    import psycopg

    from worker.db.session import get_engine

    get_engine(url).dispose()
    with psycopg.connect(PG_ADMIN.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def start_worker(
    env: dict[str, str],
    *,
    concurrency: int = 2,
    queues: str = "classify,actions,webhooks",
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    out = log.open("ab") if log else subprocess.DEVNULL
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker",
            "worker",
            f"--concurrency={concurrency}",
            f"-Q{queues}",
            f"--loglevel={os.environ.get('BENCH_WORKER_LOGLEVEL', 'WARNING')}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
