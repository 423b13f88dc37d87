"""The one scoring interface every backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

ScoreMatrix = npt.NDArray[np.float32]


@runtime_checkable
class Scorer(Protocol):
    """Scores mails against labels.

    ``score(mails, labels)`` returns a float32 matrix of shape ``[len(mails), len(labels)]`` with
    values in [0, 1]: how well label *j* describes mail *i*. ``instruction`` is the rule set's one
    shared instruction (rerankers put it in ``<Instruct>``; the embedding backend ignores it).
    """

    model_id: str

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix: ...


def empty_matrix(n_mails: int, n_labels: int) -> ScoreMatrix:
    """A zero matrix of the contract's shape and dtype."""
    return np.zeros((n_mails, n_labels), dtype=np.float32)


def check_matrix(matrix: ScoreMatrix, n_mails: int, n_labels: int) -> ScoreMatrix:
    """Validate a backend's output against the contract and return it as float32 in [0, 1]."""
    out = np.asarray(matrix, dtype=np.float32)
    if out.shape != (n_mails, n_labels):
        raise ValueError(f"backend returned shape {out.shape}, expected {(n_mails, n_labels)}")
    return np.clip(np.nan_to_num(out, nan=0.0), 0.0, 1.0)
