"""Integration fixtures: the tiny Qwen3 model of the scoring tests, for workers that load it."""

from tests.worker.scoring.conftest import qwen_tokenizer, tiny_qwen

__all__ = ["qwen_tokenizer", "tiny_qwen"]
