"""Backend registry: one entry per backend name, built from the settings.

Backends import their heavy libraries (torch, vLLM) in their constructors, so importing this
module is cheap and a worker pays for the model it uses only.
"""

from __future__ import annotations

from collections.abc import Callable

from worker.core.errors import BackendError
from worker.core.settings import Settings
from worker.scoring.base import Scorer
from worker.scoring.cache import CachedScorer


def _embedding(settings: Settings) -> Scorer:
    from worker.scoring.backends.embedding import EmbeddingScorer

    model = settings.model if settings.backend == "embedding" else None  # else: the bundled one (cascade)
    return EmbeddingScorer(model, device=settings.device, batch_size=settings.batch_size)


def _constant(settings: Settings) -> Scorer:
    from worker.scoring.backends.constant import ConstantScorer

    return ConstantScorer(delay_s=settings.constant_delay_ms / 1000)


def _transformers(settings: Settings) -> Scorer:
    from worker.scoring.backends.transformers import TransformersRerankerScorer

    return TransformersRerankerScorer.from_settings(settings)


def _vllm(settings: Settings) -> Scorer:
    from worker.scoring.backends.vllm import VllmScorer

    return VllmScorer.from_settings(settings)


def _http(settings: Settings) -> Scorer:
    from worker.scoring.backends.http import HttpRerankerScorer

    return HttpRerankerScorer.from_settings(settings)


BACKENDS: dict[str, Callable[[Settings], Scorer]] = {
    "embedding": _embedding,
    "constant": _constant,
    "transformers": _transformers,
    "vllm": _vllm,
    "http": _http,
}


RERANKERS = {"transformers", "vllm", "http"}


def create_scorer(settings: Settings, *, cached: bool = True, cascade_top_m: int | None = None) -> Scorer:
    """Build the configured backend, wrapped in the score cache unless disabled.

    With ``cascade_top_m`` (a rule set's ``policy.cascade_top_m``) a reranker scores only the top M
    labels of the embedding backend for each mail; the others score 0.
    """
    try:
        factory = BACKENDS[settings.backend]
    except KeyError as e:
        raise BackendError(
            f"unknown backend {settings.backend!r}; choose one of {', '.join(sorted(BACKENDS))}"
        ) from e
    scorer = factory(settings)
    if cascade_top_m and settings.backend in RERANKERS:
        from worker.scoring.cascade import CascadeScorer

        scorer = CascadeScorer(_embedding(settings), scorer, top_m=cascade_top_m)
    if cached and settings.score_cache_size > 0:
        return CachedScorer(scorer, maxsize=settings.score_cache_size)
    return scorer
