"""Cascade: the reranker sees only each mail's cheap top-M; pruned labels score 0.0."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from worker.scoring.base import ScoreMatrix
from worker.scoring.cascade import CascadeScorer, top_m_indices


class TableScorer:
    """Fake scorer: a fixed score per (mail, label), and a log of what it was asked."""

    def __init__(self, model_id: str, table: dict[tuple[str, str], float]) -> None:
        self.model_id = model_id
        self.table = table
        self.calls: list[tuple[list[str], list[str]]] = []

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        self.calls.append((list(mails), list(labels)))
        return np.array([[self.table[(m, lab)] for lab in labels] for m in mails], dtype=np.float32).reshape(
            len(mails), len(labels)
        )


LABELS = ["a", "b", "c", "d"]


def test_top_m_indices_are_stable_on_ties() -> None:
    assert top_m_indices(np.array([[0.1, 0.9, 0.9, 0.2]]), 2) == [(1, 2)]


def test_reranker_scores_only_the_shortlist() -> None:
    cheap = TableScorer(
        "mini",
        {
            ("m1", "a"): 0.9,
            ("m1", "b"): 0.1,
            ("m1", "c"): 0.8,
            ("m1", "d"): 0.2,
            ("m2", "a"): 0.9,
            ("m2", "b"): 0.2,
            ("m2", "c"): 0.7,
            ("m2", "d"): 0.1,
            ("m3", "a"): 0.1,
            ("m3", "b"): 0.9,
            ("m3", "c"): 0.2,
            ("m3", "d"): 0.8,
        },
    )
    rerank = TableScorer(
        "qwen", {(m, lab): 0.5 + 0.1 * LABELS.index(lab) for m in ("m1", "m2", "m3") for lab in LABELS}
    )
    cascade = CascadeScorer(cheap, rerank, top_m=2)
    got = cascade.score(["m1", "m2", "m3"], LABELS, instruction="i")
    np.testing.assert_allclose(got, [[0.5, 0.0, 0.7, 0.0], [0.5, 0.0, 0.7, 0.0], [0.0, 0.6, 0.0, 0.8]])
    # m1 and m2 share a shortlist: one reranker call for both.
    assert sorted(rerank.calls) == [(["m1", "m2"], ["a", "c"]), (["m3"], ["b", "d"])]
    assert "qwen" in cascade.model_id and "top2" in cascade.model_id


def test_small_label_sets_skip_the_cheap_scorer() -> None:
    cheap = TableScorer("mini", {})
    rerank = TableScorer("qwen", {("m", lab): 0.3 for lab in LABELS})
    got = CascadeScorer(cheap, rerank, top_m=4).score(["m"], LABELS)
    assert got.shape == (1, 4) and not cheap.calls
