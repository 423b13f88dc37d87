"""Cascade for large label sets: a cheap scorer shortlists, the reranker scores only the shortlist.

With K labels the reranker costs K suffix passes per mail (prefix sharing makes them cheap, not free);
the embedding backend scores all K for almost nothing, keeps the top M (``policy.cascade_top_m`` of
the rule set), and the reranker scores those M.

Labels the cheap scorer pruned get score 0.0, not the cheap score: the two models' scores are on
different scales, and a rule set's thresholds are calibrated on the reranker's. 0.0 means "not a
candidate", which every threshold, top-K and review band reads correctly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from worker.scoring.base import ScoreMatrix, Scorer, check_matrix, empty_matrix


def top_m_indices(scores: np.ndarray, top_m: int) -> list[tuple[int, ...]]:
    """Per row, the column indices of the ``top_m`` highest scores, ascending (stable on ties)."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :top_m]
    return [tuple(sorted(int(j) for j in row)) for row in order]


class CascadeScorer:
    """A :class:`Scorer` that reranks only each mail's top ``top_m`` labels of a cheap scorer."""

    def __init__(self, cheap: Scorer, reranker: Scorer, *, top_m: int) -> None:
        if top_m < 1:
            raise ValueError(f"top_m must be >= 1, got {top_m}")
        self.cheap = cheap
        self.reranker = reranker
        self.top_m = top_m
        # Part of every score's provenance: the same reranker with another shortlist is another model.
        self.model_id = f"{reranker.model_id}|cascade:{cheap.model_id}@top{top_m}"

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        n, k = len(mails), len(labels)
        if not n or not k:
            return empty_matrix(n, k)
        if k <= self.top_m:
            return self.reranker.score(mails, labels, instruction=instruction)
        cheap = self.cheap.score(mails, labels, instruction=instruction)
        out = empty_matrix(n, k)
        # Mails with the same shortlist go to the reranker together (keeps its batching).
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i, picked in enumerate(top_m_indices(np.asarray(cheap), self.top_m)):
            groups[picked].append(i)
        for picked, rows in groups.items():
            sub = self.reranker.score(
                [mails[i] for i in rows], [labels[j] for j in picked], instruction=instruction
            )
            out[np.ix_(rows, list(picked))] = sub
        return check_matrix(out, n, k)
