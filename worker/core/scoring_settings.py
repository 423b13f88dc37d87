"""The scoring settings: which backend scores mail, with which model, on what text."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

# The scoring backends (worker.scoring.registry has one factory per name and checks it at import).
BACKEND_NAMES = ("embedding", "transformers", "vllm", "http", "constant")


class ScoringSettings(BaseSettings):
    """The scoring fields of :class:`~worker.core.settings.Settings` (a base of it, not used alone)."""

    backend: str = Field(
        "embedding",
        description="Scoring backend: embedding, transformers, vllm, http or constant.",
    )
    model: str | None = Field(
        None,
        description="Model path or id for the backend. Default: the bundled all-MiniLM-L6-v2 "
        "(embedding) or Qwen/Qwen3-Reranker-4B (reranker backends).",
    )
    device: str = Field("cpu", description="torch device for the transformers backend (cpu, cuda).")
    embedding_runtime: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx",
        description="Embedding backend on a CPU: onnx (ONNX Runtime, exported locally from the bundled "
        "weights on first use; same embeddings, faster), onnx-int8 (quantized) or torch "
        "(sentence-transformers). See docs/benchmarks.md.",
    )
    dtype: str = Field(
        "auto", description="Model dtype for reranker backends (auto, float16, bfloat16, float32)."
    )
    max_model_len: int = Field(2048, description="Token limit of one (mail, label) pair for rerankers.")
    gpu_memory_utilization: float = Field(0.85, description="vLLM: fraction of GPU memory to use.")
    tensor_parallel_size: int = Field(1, description="vLLM: GPUs per model.")
    vllm_kv_cache_bytes: int | None = Field(
        None, description="vLLM: KV-cache size in bytes (set it on CPU, e.g. 268435456; unset on GPU)."
    )
    vllm_enforce_eager: bool = Field(
        False, description="vLLM: disable CUDA graphs / compilation (CPU tests)."
    )
    http_url: str | None = Field(None, description="http backend: base URL of a `vllm serve` server.")
    http_timeout_s: float = Field(30.0, description="http backend: timeout per request in seconds.")
    constant_delay_ms: float = Field(
        0.0,
        description="constant backend only: pretend each batch takes this long (fault tests, benchmarks).",
    )
    batch_size: int = Field(32, description="Mails per classify task / scoring batch.")
    max_chars: int = Field(4000, description="Character budget of the text that is scored per mail.")
    subject_boilerplate_min: int = Field(
        3,
        ge=0,
        description="A subject shared by this many recent mails of a profile, and by 5% of them or more "
        "(Re:/Fwd:, case ignored), is boilerplate: left out of the scored text. 0 = always score it.",
    )
    score_cache_size: int = Field(10000, description="Entries of the in-memory score cache (0 = off).")

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in BACKEND_NAMES:
            raise ValueError(f"unknown backend {value!r}; choose one of {', '.join(sorted(BACKEND_NAMES))}")
        return value
