"""Backend registry: one entry per backend name, built from the settings.

Backends import their heavy libraries (torch, vLLM) in their constructors, so importing this
module is cheap and a worker pays for the model it uses only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from worker.core.errors import BackendError, ConfigError
from worker.core.settings import BACKEND_NAMES, Settings
from worker.scoring.base import Scorer
from worker.scoring.cache import CachedScorer

if TYPE_CHECKING:
    from worker.scoring.backends.embedding import EmbeddingScorer


def _embedding(settings: Settings) -> Scorer:
    from worker.scoring.backends.embedding import EmbeddingScorer

    model = settings.model if settings.backend == "embedding" else None  # else: the bundled one (cascade)
    runtime = settings.embedding_runtime if settings.device == "cpu" else "torch"
    return EmbeddingScorer(model, device=settings.device, batch_size=settings.batch_size, runtime=runtime)


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
# Backends whose scores depend on the mail's content, so reviewed examples can teach them something.
LEARNS_FROM_REVIEWS = {"embedding", *RERANKERS}

if set(BACKENDS) != set(BACKEND_NAMES):  # a backend named in the settings but not wired, or the reverse
    raise ConfigError(f"backend registry {sorted(BACKENDS)} does not match settings {sorted(BACKEND_NAMES)}")


def learns_from_reviews(backend: str) -> bool:
    """Whether learned classifiers (learning from reviews) apply to ``backend``."""
    return backend in LEARNS_FROM_REVIEWS


def base_scorer(scorer: Any) -> Any:
    """The backend under any wrappers (``.inner`` chains: cache, few-shot)."""
    while hasattr(scorer, "inner"):
        scorer = scorer.inner
    return scorer


def mail_embedder(scorer: Any) -> EmbeddingScorer | None:
    """The embedding backend under ``scorer``'s wrappers, or None when the backend is another one."""
    from worker.scoring.backends.embedding import EmbeddingScorer

    base = base_scorer(scorer)
    return base if isinstance(base, EmbeddingScorer) else None


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
