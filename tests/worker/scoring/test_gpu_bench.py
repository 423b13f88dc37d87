"""bench/gpu.sh's scorer script on a tiny model, on this CPU: each backend must print its RESULT line."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.worker.scoring.conftest import require_vllm


def run_gpu_score(*extra: str) -> dict[str, str]:
    run = subprocess.run(
        [sys.executable, "bench/gpu_score.py", "--shape", "tiny", "--mails", "6", "--tokens", "150", *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=540,
        env={**os.environ, "VLLM_ENABLE_V1_MULTIPROCESSING": "0", "HF_HUB_OFFLINE": "1"},
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    [result] = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    figures = dict(re.findall(r"(\w+)=([\w.]+)", result))
    for k in (1, 10):
        assert float(figures[f"k{k}_mails_per_s"]) > 0
        assert 0 < float(figures[f"k{k}_flop_ratio"]) < 1  # measured below the bound
    return figures


@pytest.mark.slow
@pytest.mark.vllm
def test_gpu_score_runs_the_vllm_backend_on_a_tiny_model() -> None:
    require_vllm()
    figures = run_gpu_score("--backend", "vllm")
    assert figures["backend"] == "vllm"
    assert float(figures["k10_hit_rate"]) > 0  # the mail's prefix is shared across its 10 labels


@pytest.mark.slow
def test_gpu_score_runs_the_transformers_backend_where_vllm_is_missing() -> None:
    figures = run_gpu_score("--backend", "transformers", "--naive-mails", "3")
    assert figures["backend"] == "transformers"
    assert float(figures["k10_naive_mails_per_s"]) > 0
    assert "k10_hit_rate" not in figures  # no vLLM prefix cache on this path
