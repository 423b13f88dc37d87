"""How sure a decision is: P(the top category is right | its probability, how near reviewed mails it is).

The classifier's top probability alone is over-confident for a mail unlike anything reviewed (a
softmax always picks someone). So the confidence is a small logistic model, fitted on the reviewed
mails' cross-validated predictions::

    confidence = sigmoid(a · logit(top probability) + b · near_top + c · near_none + d)

where ``near_top`` is the highest cosine between the mail and the reviewed mails of its top category
and ``near_none`` the same for the mails reviewed as "none" (outside the mail's own fold while
fitting; 0 when there are none). A mail reviewed as "none of these" counts as a wrong
decision, so out-of-scope mails teach it too. :func:`rescale` makes the top category's probability
equal to that confidence (the others scaled alike, the rest is "none"), so the score the rule engine
compares to thresholds is the probability that routing there is right.
"""

from __future__ import annotations

import numpy as np

from worker.learning import calibration as cal


def nearness(vectors: np.ndarray, examples: np.ndarray, labels: np.ndarray, top: np.ndarray) -> np.ndarray:
    """[near_top, near_none] of each mail: its highest cosine to the examples of its top category and
    to those reviewed as "none" (label -1); 0 where there are none."""
    out = np.zeros((len(vectors), 2))
    if not len(examples) or not len(vectors):
        return out
    sims = np.asarray(vectors, dtype=np.float32) @ np.asarray(examples, dtype=np.float32).T
    for column, wanted in ((0, top[:, None]), (1, np.full((len(vectors), 1), -1))):
        mask = labels[None, :] == wanted
        if mask.any():
            out[:, column] = np.where(mask, sims, -1.0).max(axis=1).clip(0.0)
    return out


def oof_nearness(vectors: np.ndarray, labels: np.ndarray, top: np.ndarray, folds: list) -> np.ndarray:
    """:func:`nearness` of each mail to the reviewed mails outside its fold."""
    out = np.zeros((len(vectors), 2))
    for train, test in folds:
        out[test] = nearness(vectors[test], vectors[train], labels[train], top[test])
    return out


def _design(top: np.ndarray, near: np.ndarray) -> np.ndarray:
    return np.column_stack([cal.logits(top), near])


def fit_confidence(top: np.ndarray, near: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """[a, b, c, d] of the confidence model; the top probability alone when all are right or wrong."""
    from sklearn.linear_model import LogisticRegression

    if correct.all() or not correct.any():
        return np.array([1.0, 0.0, 0.0, 0.0])
    model = LogisticRegression(C=10.0, max_iter=500).fit(_design(top, near), correct)
    return np.array([*model.coef_[0], model.intercept_[0]])


def confidence(top: np.ndarray, near: np.ndarray, coef: np.ndarray) -> np.ndarray:
    z = _design(top, near) @ coef[:-1] + coef[-1]
    return 1.0 / (1.0 + np.exp(-z))


def rescale(probs: np.ndarray, near: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """``probs`` [mails × (K + 1)] with the categories scaled so the top one is the confidence."""
    k = probs.shape[1] - 1
    top = probs[:, :k].max(axis=1)
    conf = confidence(top, near, coef)
    out = probs.copy()
    out[:, :k] *= (conf / np.maximum(top, 1e-12))[:, None]
    out[:, k] = 1.0 - out[:, :k].sum(axis=1)
    return np.clip(out, 0.0, 1.0)
