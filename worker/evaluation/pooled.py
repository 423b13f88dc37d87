"""The traffic memory in a replay: each mail pooled with the mails routed before it, batch by batch.

The live worker pools a mail's learned probabilities with those of its nearest recent mails, as they
were decided, reviewed ones one-hot (:mod:`worker.learning.neighbours`, :mod:`worker.learning.memory`).
:func:`replay_pooled` does the same over a time-ordered labeled set: batches of :data:`BATCH` mails,
each seeing the ``size`` mails before it (never itself or a later one) with the probabilities the
replay decided them with, and the reviewed ones with their reviewed column.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from worker.learning.neighbours import MEMORY, NEIGHBOURS, WEIGHT, Neighbourhood, pool, unit, with_reviews

BATCH = 32


def replay_pooled(
    probs: np.ndarray,
    vectors: np.ndarray,
    reviewed: Mapping[int, int],
    *,
    k: int = NEIGHBOURS,
    weight: float = WEIGHT,
    size: int = MEMORY,
    batch: int = BATCH,
) -> np.ndarray:
    """``probs`` [n × (K + 1)] of time-ordered mails, pooled as the live worker would have;
    ``reviewed``: {row: reviewed column} (K: "none")."""
    vectors = unit(vectors)
    out = np.array(probs, dtype=np.float64, copy=True)
    rows = np.arange(len(out))
    for start in range(batch, len(out), batch):
        low = max(0, start - size)
        near = Neighbourhood(vectors[low:start], with_reviews(out[low:start], rows[low:start], reviewed))
        out[start : start + batch] = pool(
            probs[start : start + batch], vectors[start : start + batch], near, k=k, weight=weight
        )
    return out
