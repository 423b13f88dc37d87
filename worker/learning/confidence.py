"""How sure a decision is: P(the top category is right | its probability, how near reviewed mails it is).

The classifier's top probability alone is over-confident for a mail unlike anything reviewed (a
softmax always picks someone). So the confidence is a small logistic model, fitted on the reviewed
mails' cross-validated predictions::

    confidence = sigmoid(a · logit(top probability) + b · nearness + c)

where ``nearness`` is the highest cosine between the mail and the reviewed mails of a category
(outside the mail's own fold while fitting). A mail reviewed as "none of these" counts as a wrong
decision, so out-of-scope mails teach it too. :func:`rescale` makes the top category's probability
equal to that confidence (the others scaled alike, the rest is "none"), so the score the rule engine
compares to thresholds is the probability that routing there is right.
"""

from __future__ import annotations

import numpy as np

from worker.learning import calibration as cal


def nearness(vectors: np.ndarray, examples: np.ndarray) -> np.ndarray:
    """Highest cosine of each mail to ``examples`` (unit vectors); 0 when there are none."""
    if not len(examples) or not len(vectors):
        return np.zeros(len(vectors))
    return (np.asarray(vectors, dtype=np.float32) @ np.asarray(examples, dtype=np.float32).T).max(axis=1)


def oof_nearness(vectors: np.ndarray, inscope: np.ndarray, folds: list) -> np.ndarray:
    """Each mail's nearness to the in-scope reviewed mails outside its fold."""
    out = np.zeros(len(vectors))
    for train, test in folds:
        keep = train[inscope[train]]
        out[test] = nearness(vectors[test], vectors[keep])
    return out


def _design(top: np.ndarray, near: np.ndarray) -> np.ndarray:
    return np.column_stack([cal.logits(top), near])


def fit_confidence(top: np.ndarray, near: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """[a, b, c] of the confidence model; identity-like ([1, 0, 0]) when all are right or all wrong."""
    from sklearn.linear_model import LogisticRegression

    if correct.all() or not correct.any():
        return np.array([1.0, 0.0, 0.0])
    model = LogisticRegression(C=10.0, max_iter=500).fit(_design(top, near), correct)
    return np.array([*model.coef_[0], model.intercept_[0]])


def confidence(top: np.ndarray, near: np.ndarray, coef: np.ndarray) -> np.ndarray:
    z = _design(top, near) @ coef[:2] + coef[2]
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
