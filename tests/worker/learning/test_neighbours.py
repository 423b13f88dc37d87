"""Pooling with recent neighbours: pure functions, and the replay that applies them in time order."""

from __future__ import annotations

import numpy as np
import pytest

from worker.evaluation.pooled import replay_pooled
from worker.learning.neighbours import Neighbourhood, fingerprint, pool, unit, with_reviews

BILLING, SUPPORT = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
EVEN = np.array([[0.45, 0.45, 0.10]])


def near(vectors: list[np.ndarray], probs: list[list[float]]) -> Neighbourhood:
    return Neighbourhood(unit(np.vstack(vectors)), np.asarray(probs, dtype=float))


def test_a_mail_leans_to_what_its_nearest_recent_mails_were() -> None:
    memory = near([BILLING, BILLING + 0.1, SUPPORT], [[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.05, 0.9, 0.05]])
    pooled = pool(EVEN, BILLING[None, :] + 0.05, memory, k=2, weight=0.4)
    assert pooled[0, 0] > 0.6 > pooled[0, 1]
    assert pooled.sum() == pytest.approx(1.0)
    like_support = pool(EVEN, SUPPORT[None, :], memory, k=1, weight=0.4)
    assert like_support[0, 1] > like_support[0, 0]


def test_no_memory_or_no_weight_leaves_the_probabilities_alone() -> None:
    memory = near([BILLING], [[0.9, 0.05, 0.05]])
    assert pool(EVEN, BILLING[None, :], Neighbourhood(np.zeros((0, 3)), np.zeros((0, 3)))) is EVEN
    assert pool(EVEN, BILLING[None, :], memory, weight=0.0) is EVEN
    assert pool(EVEN, BILLING[None, :], memory, k=0) is EVEN


def test_neighbours_of_other_columns_are_refused() -> None:
    memory = near([BILLING], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="2 columns, not 3"):
        pool(EVEN, BILLING[None, :], memory)


def test_a_reviewed_row_counts_one_hot_on_its_reviewed_column() -> None:
    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    out = with_reviews(probs, [41, 42], {42: 2, 99: 0})
    assert out.tolist() == [[0.6, 0.3, 0.1], [0.0, 0.0, 1.0]]
    assert probs[1].tolist() == [0.2, 0.7, 0.1]  # a copy


def test_the_fingerprint_follows_names_and_order() -> None:
    assert fingerprint(["a", "b"]) == fingerprint(["a", "b"])
    assert fingerprint(["a", "b"]) != fingerprint(["b", "a"])
    assert fingerprint(["ab"]) != fingerprint(["a", "b"])


def test_the_replay_pools_each_mail_with_earlier_mails_only() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(96, 8))
    probs = np.full((96, 3), 1 / 3)
    vectors[70] = vectors[5]  # mail 70 is like mail 5, which reviewers marked column 0
    out = replay_pooled(probs, vectors, {5: 0}, k=1, weight=0.5, batch=32)
    assert np.allclose(out[:32], probs[:32])  # the first batch has no memory
    assert out[70, 0] > 0.9
    later = probs.copy()
    later[80:] = [0.0, 0.0, 1.0]  # what comes later changes nothing before it
    again = replay_pooled(later, vectors, {5: 0}, k=1, weight=0.5, batch=32)
    assert np.allclose(again[:64], out[:64])
