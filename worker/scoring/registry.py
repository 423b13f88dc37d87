"""Backend registry: one entry per backend name, built from the settings.

Backends import their heavy libraries (torch, vLLM) in their constructors, so importing this
module is cheap and a worker pays for the model it uses only.
"""

from __future__ import annotations

from collections.abc import Callable

from worker.errors import BackendError
from worker.scoring.base import Scorer
from worker.scoring.cache import CachedScorer
from worker.settings import Settings


def _embedding(settings: Settings) -> Scorer:
    from worker.scoring.embedding import EmbeddingScorer

    return EmbeddingScorer(settings.model, device=settings.device, batch_size=settings.batch_size)


def _constant(settings: Settings) -> Scorer:
    from worker.scoring.constant import ConstantScorer

    return ConstantScorer(delay_s=settings.constant_delay_ms / 1000)


def _transformers(settings: Settings) -> Scorer:
    from worker.scoring.transformers_backend import TransformersRerankerScorer

    return TransformersRerankerScorer.from_settings(settings)


def _vllm(settings: Settings) -> Scorer:
    from worker.scoring.vllm_backend import VllmScorer

    return VllmScorer.from_settings(settings)


def _http(settings: Settings) -> Scorer:
    from worker.scoring.http_backend import HttpRerankerScorer

    return HttpRerankerScorer.from_settings(settings)


BACKENDS: dict[str, Callable[[Settings], Scorer]] = {
    "embedding": _embedding,
    "constant": _constant,
    "transformers": _transformers,
    "vllm": _vllm,
    "http": _http,
}


def create_scorer(settings: Settings, *, cached: bool = True) -> Scorer:
    """Build the configured backend, wrapped in the score cache unless disabled."""
    try:
        factory = BACKENDS[settings.backend]
    except KeyError as e:
        raise BackendError(
            f"unknown backend {settings.backend!r}; choose one of {', '.join(sorted(BACKENDS))}"
        ) from e
    scorer = factory(settings)
    if cached and settings.score_cache_size > 0:
        return CachedScorer(scorer, maxsize=settings.score_cache_size)
    return scorer
