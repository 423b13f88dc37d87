"""Choosing the learned model's blend by cross-validation on the reviewed mails themselves.

The candidates are ``w`` · regression + (1 − ``w``) · prior (:func:`blend`) for every ``C`` of the
class-balanced logistic regression in :data:`C_GRID` and ``w`` in :data:`W_GRID`. Each is scored by the
out-of-fold negative log-likelihood of the reviewed mails (:data:`FOLDS` folds, stratified and blocked in
review order, so reviews of one thread or one week stay together and do not flatter the regression),
and :func:`one_standard_error` picks the least ``w``, then the smallest ``C``, whose loss is within one
standard error of the best: with few or unrepresentative reviews the folds trust the prior and the
stronger regularisation unless the regression is better beyond noise.
"""

from __future__ import annotations

import numpy as np

C_GRID = (1.0, 4.0, 16.0, 64.0)
W_GRID = (0.0, 0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0)
FOLDS = 3
SEED = 13


def blend(prior: np.ndarray, lr: np.ndarray, classes: np.ndarray, weight: float) -> np.ndarray:
    """``weight`` · lr⁺ + (1 − weight) · prior; lr⁺ is the regression over the classes it saw, 0 elsewhere
    (no reviewed mail is of an unseen class: only the prior's part keeps those reachable)."""
    extended = np.zeros_like(prior)
    extended[:, classes] = lr
    return weight * extended + (1 - weight) * prior


def regression(c: float) -> object:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=300)


def folds(y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    smallest = int(np.bincount(y)[np.unique(y)].min())
    if smallest >= 2:
        splitter = StratifiedKFold(min(FOLDS, smallest))  # blocked: reviews in review order
        return list(splitter.split(y, y))
    return list(KFold(min(FOLDS, len(y)), shuffle=True, random_state=SEED).split(y))


def nll_per_mail(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))


def _standard_error(diff: np.ndarray) -> float:
    return float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0


def one_standard_error(losses: dict[tuple[float, float], np.ndarray]) -> tuple[float, float]:
    """(C, w): the least blend weight, then the smallest C, whose out-of-fold NLL is within one
    standard error of the best's (the paired per-mail differences'): differences the folds cannot tell
    from noise go to the prior and to the stronger regularisation."""
    best = min(losses.values(), key=lambda v: float(v.mean()))
    for w, c in sorted(losses):
        diff = losses[(w, c)] - best
        if diff.mean() <= _standard_error(diff):
            return c, w
    raise AssertionError("the best candidate is always within one standard error of itself")


def select(
    x: np.ndarray, y: np.ndarray, prior: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[float, float, np.ndarray]:
    """(C, w, the chosen blend's out-of-fold probabilities [mails × (K + 1)]) for features ``x``, gold
    columns ``y`` and the zero-shot ``prior`` of the reviewed mails."""
    classes = np.unique(y)
    oof = {c: np.zeros((len(y), len(classes))) for c in C_GRID}
    for train, test in splits:
        for c in C_GRID:
            model = regression(c).fit(x[train], y[train])  # type: ignore[attr-defined]
            proba = np.zeros((len(test), len(classes)))
            proba[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(x[test])
            oof[c][test] = proba
    chosen_c, weight = one_standard_error(
        {(w, c): nll_per_mail(blend(prior, oof[c], classes, w), y) for c in C_GRID for w in W_GRID}
    )
    return chosen_c, weight, blend(prior, oof[chosen_c], classes, weight)
