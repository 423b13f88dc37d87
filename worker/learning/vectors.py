"""Mail vectors for learning: the embedder of a backend, and the zero-shot scores from its vectors.

Learning from reviews (:mod:`worker.learning.classifier`) works on the CPU model's mail embeddings
whatever the backend: the embedding backend embeds with its own model, every other backend gets the
bundled embedding model, built the first time a mail needs it (:func:`lazy_embedder`). With the
embedding backend a mail is encoded once: its zero-shot scores come from the same vector
(:func:`zero_shot_from_vectors`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from worker.scoring.base import Scorer, check_matrix
from worker.scoring.registry import mail_embedder


class Embedder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def zero_shot_from_vectors(scorer: Scorer, vectors: np.ndarray, labels: Sequence[str]) -> np.ndarray | None:
    """The embedding backend's scores from mail vectors already computed (None for other backends)."""
    from worker.scoring.backends.embedding import calibrate

    base = mail_embedder(scorer)
    if base is None or not len(vectors):
        return None
    return check_matrix(calibrate(vectors @ base.label_vectors(labels).T), len(vectors), len(labels))


def lazy_embedder(scorer: Any, *, batch_size: int) -> Callable[[], Embedder]:
    """The mail embedder for learning over ``scorer``: the embedding backend under its wrappers, else
    the bundled embedding model, built on the first call (once, whichever thread asks first)."""
    base = mail_embedder(scorer)
    holder: list[Embedder] = [base] if base is not None else []
    lock = threading.Lock()

    def embedder() -> Embedder:
        with lock:
            if not holder:
                from worker.scoring.backends.embedding import EmbeddingScorer

                holder.append(EmbeddingScorer(batch_size=batch_size))
            return holder[0]

    return embedder
