"""The learned classifier: calibrated, trusts the prior with little evidence, learns "none", round-trips."""

from __future__ import annotations

import numpy as np

from worker.learning import calibration as cal
from worker.learning.classifier import LearnedModel, fit

LABELS = ["billing", "support", "sales", "legal"]


def clusters(
    n: int, *, seed: int, noise: float = 1.0, none: bool = False, mixed: bool = False
) -> tuple[np.ndarray, ...]:
    """Mails around one centre per label (and a "none" centre), a zero-shot that knows nothing.

    ``mixed``: half the mails are clear, half ambiguous, so confidence has something to tell apart.
    """
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).normal(size=(len(LABELS) + 1, 24))
    y = rng.integers(0, len(LABELS) + int(none), size=n)
    scale = rng.choice([0.4, 2.5], size=(n, 1)) if mixed else noise
    vectors = centres[y] + rng.normal(size=(n, 24)) * scale
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = np.full((n, len(LABELS)), 0.5)
    return vectors, scores, y


def test_the_prior_is_a_distribution_with_a_none_column() -> None:
    probs = cal.prior(np.array([[0.9, 0.1, 0.2], [0.1, 0.1, 0.1]]))
    assert probs.shape == (2, 4) and np.allclose(probs.sum(axis=1), 1.0)
    assert probs[0].argmax() == 0 and probs[1, 3] > probs[0, 3]  # unlike every label: more "none"


def test_expected_calibration_error() -> None:
    assert cal.ece([0.9] * 10, [True] * 9 + [False]) < 1e-9
    assert abs(cal.ece([0.9] * 10, [True] * 5 + [False] * 5) - 0.4) < 1e-9


def test_a_calibrated_threshold_of_0_9_holds_on_held_back_reviewed_mails() -> None:
    vectors, scores, y = clusters(1200, seed=1, mixed=True)
    model = fit(vectors[:400], scores[:400], y[:400], LABELS)
    probs = model.proba(vectors[400:], scores[400:])[:, : len(LABELS)]
    confident = probs.max(axis=1) >= 0.9
    right = probs.argmax(axis=1) == y[400:]
    assert 0.5 < right.mean() < 0.95  # a hard enough set that confidence matters
    assert confident.sum() >= 50 and right[confident].mean() >= 0.85
    assert model.ece is not None and model.ece < 0.1 and model.cv_accuracy is not None


def test_few_examples_lean_on_the_prior_many_on_the_regression() -> None:
    vectors, scores, y = clusters(600, seed=2)
    few = fit(vectors[:8], scores[:8], y[:8], LABELS)
    many = fit(vectors[:400], scores[:400], y[:400], LABELS)
    assert many.weight >= few.weight and many.weight >= 0.6
    assert (many.proba(vectors[400:], scores[400:]).argmax(axis=1) == y[400:]).mean() > 0.8


def test_no_reviews_or_one_label_is_the_prior() -> None:
    vectors, scores, y = clusters(10, seed=3)
    for model in (
        fit(vectors[:0], scores[:0], y[:0], LABELS),
        fit(vectors, scores, np.zeros(10, int), LABELS),
    ):
        assert model.weight == 0.0
        np.testing.assert_allclose(model.proba(vectors, scores), cal.prior(scores))


def test_mails_reviewed_as_none_teach_none() -> None:
    vectors, scores, y = clusters(800, seed=4, noise=0.6, none=True)
    model = fit(vectors[:400], scores[:400], y[:400], LABELS)
    probs = model.proba(vectors[400:], scores[400:])
    held = y[400:]
    assert model.counts["none"] > 0
    assert (probs[held == len(LABELS)].argmax(axis=1) == len(LABELS)).mean() > 0.8


def test_a_model_round_trips_through_bytes_without_pickle() -> None:
    vectors, scores, y = clusters(100, seed=5)
    model = fit(vectors, scores, y, LABELS)
    back = LearnedModel.from_bytes(model.to_bytes())
    np.testing.assert_allclose(back.proba(vectors, scores), model.proba(vectors, scores))
    assert back.labels == tuple(LABELS) and back.counts == model.counts


def test_two_labels_only() -> None:
    vectors, scores, y = clusters(200, seed=6, noise=0.5)
    y = y % 2
    model = fit(vectors[:100], scores[:100], y[:100], LABELS)
    assert (model.proba(vectors[100:], scores[100:]).argmax(axis=1) == y[100:]).mean() > 0.9


def test_cross_validation_differences_within_noise_go_to_the_prior_and_regularisation() -> None:
    from worker.learning.selection import one_standard_error

    rng = np.random.default_rng(1)
    base = rng.exponential(size=60)
    noisy = base + rng.normal(0.0, 0.5, size=60)  # the same on average: within one standard error
    losses = {(0.8, 16.0): base - 0.01, (0.2, 4.0): noisy, (0.2, 1.0): noisy + 5.0, (0.0, 1.0): base + 1.0}
    assert one_standard_error(losses) == (4.0, 0.2)
    losses[(0.8, 16.0)] = base - 2.0  # clearly better: chosen
    assert one_standard_error(losses) == (16.0, 0.8)
