"""Scores that mean what they say: backend scores → probabilities over the categories and "none".

Every backend scores a mail against each category in (0, 1). Their logits ``log(s / (1 - s))`` are
turned into a distribution over the K categories *plus* a "none of these" class::

    p = softmax([logit(s_1), ..., logit(s_K), NONE] / T)

so a mail unlike every category leaves its mass on "none" and no category scores high. This is the
*prior*, used before any review; :data:`PRIOR_TEMPERATURE` and :data:`PRIOR_NONE` were fitted by
:func:`fit_prior` (least mean negative log-likelihood) on the two dev sets together, each weighing
the same: HWU64 with 8 of its 64 intents held out as out-of-scope, and the Berkeley Enron genres
(``python scripts/fit_prior.py``; figures in docs/benchmarks.md): ECE of the zero-shot top
probability 0.089 on HWU64 and 0.044 on Enron. After reviews the learned model
(:mod:`worker.learning.classifier`) recalibrates with a temperature fitted on cross-validated
predictions (:func:`fit_temperature`: a temperature, and how much "none" the reviews bear out).

The probabilities of the categories are what the rule engine sees, so thresholds, review bands and
``target_precision`` read as probabilities; the confidence of a decision is its top probability.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

PRIOR_TEMPERATURE = 0.6
PRIOR_NONE = -0.25
_EPS = 1e-6
_GRID_T = np.exp(np.linspace(np.log(0.05), np.log(20.0), 40))
_NONE_RANGE = 4.0
_GRID_B = np.linspace(-_NONE_RANGE, _NONE_RANGE, 17)


def logits(scores: np.ndarray) -> np.ndarray:
    """``log(s / (1 - s))`` of scores in (0, 1), clipped away from 0 and 1."""
    s = np.clip(np.asarray(scores, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(s / (1 - s))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def prior(
    scores: np.ndarray, *, temperature: float = PRIOR_TEMPERATURE, none: float = PRIOR_NONE
) -> np.ndarray:
    """Zero-shot probabilities [mails × (K + 1)]; the last column is "none of these"."""
    z = logits(np.atleast_2d(scores))
    z = np.hstack([z, np.full((len(z), 1), none)])
    return softmax(z / temperature)


def temper(probs: np.ndarray, temperature: float, none_bias: float = 0.0) -> np.ndarray:
    """``probs`` sharpened (T < 1) or softened (T > 1), the last ("none") column shifted by ``none_bias``:
    softmax(log p / T + none_bias · [none])."""
    z = np.log(np.clip(probs, 1e-12, None)) / temperature
    if none_bias:
        z[:, -1] += none_bias
    return softmax(z)


def nll(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of the gold columns ``y``."""
    return float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None)).mean())


def fit_temperature(probs: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(temperature, none bias) minimising the NLL of ``probs`` for gold columns ``y`` ((1, 0) if no
    data). The bias lets the reviews say how often "none of these" is right, within ±``_NONE_RANGE``."""
    if not len(y):
        return 1.0, 0.0
    best = min((nll(temper(probs, t, b), y), t, b) for t in _GRID_T for b in _GRID_B)
    return float(best[1]), float(best[2])


def fit_prior(sets: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """(temperature, none logit) minimising the mean over ``sets`` of each one's NLL.

    Each set is (scores [n × K], gold column per mail, K meaning "none"). Grid search: it is run
    once, offline, on the dev sets.
    """
    best = (np.inf, 1.0, 0.0)
    for t in np.exp(np.linspace(np.log(0.2), np.log(5.0), 33)):
        for b in np.linspace(-6.0, 6.0, 49):
            loss = float(np.mean([nll(prior(s, temperature=t, none=b), y) for s, y in sets]))
            best = min(best, (loss, float(t), float(b)))
    return best[1], best[2]


def ece(confidence: ArrayLike, correct: ArrayLike, *, bins: int = 10) -> float:
    """Expected calibration error: Σ over equal-width confidence bins of share × |accuracy − conf|."""
    conf, ok = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    if not len(conf):
        return 0.0
    which = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(ok[mask].mean() - conf[mask].mean())
    return float(total)


def reliability(confidence: ArrayLike, correct: ArrayLike, *, bins: int = 10) -> list[dict]:
    """Per confidence bin: mean confidence, accuracy and count (the calibration plot's points)."""
    conf, ok = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    return [
        {"confidence": float(conf[m].mean()), "accuracy": float(ok[m].mean()), "n": int(m.sum())}
        for m in (which == b for b in range(bins))
        if m.any()
    ]
