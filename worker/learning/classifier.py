"""The learned classifier of a rule set: reviewed mails → calibrated probabilities, any backend.

Features of a mail: its unit-normalised CPU-model embedding ⊕ the backend's label logits (so it
learns on top of whatever backend scores). Target: the reviewed label's column, or K for a mail the
reviewers said fits no category ("none"). The model is a class-balanced multinomial logistic
regression, blended with the zero-shot prior (:func:`worker.learning.calibration.prior`) by the
evidence there is::

    p = w · lr⁺ + (1 − w) · prior,      then tempered by T and "none" shifted by b

where ``lr⁺`` is the regression over the classes it has seen and 0 for the others, so reviews of a
few categories can outweigh a prior that leaned elsewhere while the prior's part keeps the unreviewed
categories (and "none", until reviewers mark mails as none) reachable. ``C``, ``w``, ``T`` and ``b`` are
chosen by cross-validation on the reviewed mails themselves, never fixed: ``C`` and ``w`` by the
one-standard-error rule of :mod:`worker.learning.selection` (Enron, 20 time-ordered mails per genre:
w 0.8 → 0.6, accuracy 0.513 → 0.562), ``T`` and ``b`` by the least NLL of the chosen blend. The
folds are blocked in review order (reviews of one thread or one week stay together), so they do not
flatter the regression: on the Enron replay blocked folds gave 0.534 where shuffled ones gave 0.497
(all still below zero-shot 0.578: an open problem, see docs/benchmarks.md). The out-of-fold
predictions give the reported accuracy, the expected calibration error and the calibration plot.

:class:`LearnedModel` holds only numpy arrays and numbers; :meth:`LearnedModel.to_bytes` is what
the database stores (no pickle).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from worker.learning import calibration as cal
from worker.learning import confidence as conf
from worker.learning import selection as sel


def features(vectors: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """[embedding ⊕ label logits / 10]: the logits on the embedding's scale."""
    return np.hstack([np.asarray(vectors, dtype=np.float64), cal.logits(scores) / 10.0])


@dataclass
class LearnedModel:
    labels: tuple[str, ...]  # the categories, in column order; column K is "none"
    classes: np.ndarray  # the columns the regression was trained on (int)
    coef: np.ndarray
    intercept: np.ndarray
    weight: float
    temperature: float
    n_examples: int
    none_bias: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    cv_accuracy: float | None = None
    ece: float | None = None
    reliability: list[dict] = field(default_factory=list)
    chosen_c: float | None = None
    version: int = 0
    examples: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float16))  # reviewed, unit
    example_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # their column; -1 none
    confidence: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0, 0.0, 0.0]))
    example_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # their message ids

    def reviewed_columns(self) -> dict[int, int]:
        """{message id: reviewed column} of the examples whose ids are known (K: "none")."""
        k = len(self.labels)
        return {
            int(i): (int(c) if c >= 0 else k)
            for i, c in zip(self.example_ids, self.example_labels, strict=False)
        }

    def proba(self, vectors: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities [mails × (K + 1)]."""
        base = cal.prior(scores)
        if self.weight > 0 and len(self.classes) > 1:
            lr = cal.softmax(features(vectors, scores) @ self.coef.T + self.intercept)
            base = sel.blend(base, lr, self.classes, self.weight)
        probs = cal.temper(base, self.temperature, self.none_bias)
        if not len(self.examples):
            return probs
        top = probs[:, : len(self.labels)].argmax(axis=1)
        near = conf.nearness(vectors, self.examples, self.example_labels, top)
        return conf.rescale(probs, near, self.confidence)

    def to_bytes(self) -> bytes:
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        meta = {k: v for k, v in asdict(self).items() if k not in _ARRAYS}
        buffer = io.BytesIO()
        np.savez(buffer, meta=json.dumps(meta), **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LearnedModel:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            meta["labels"] = tuple(meta["labels"])
            return cls(**{name: data[name] for name in _ARRAYS if name in data}, **meta)


# example_ids came with 0007_mail_vectors: a blob stored before has none (its reviews pool as traffic)
_ARRAYS = ("classes", "coef", "intercept", "examples", "example_labels", "confidence", "example_ids")


def fit(vectors: np.ndarray, scores: np.ndarray, gold: ArrayLike, labels: Sequence[str]) -> LearnedModel:
    """A model from reviewed mails: ``gold`` holds each mail's column (``len(labels)`` = "none")."""
    y = np.asarray(gold, dtype=int)
    k = len(labels)
    present, sizes = np.unique(y, return_counts=True)
    counts = {(labels[c] if c < k else "none"): int(n) for c, n in zip(present, sizes, strict=True)}
    prior = cal.prior(scores) if len(y) else np.zeros((0, k + 1))
    empty = LearnedModel(
        tuple(labels), np.zeros(0, int), np.zeros((0, 0)), np.zeros(0), 0.0, 1.0, len(y), counts=counts
    )
    if len(counts) < 2 or len(y) < 4:
        return empty
    x = features(vectors, scores)
    folds = sel.folds(y)
    chosen_c, weight, blended = sel.select(x, y, prior, folds)
    temperature, none_bias = cal.fit_temperature(blended, y)
    final = cal.temper(blended, temperature, none_bias)
    example_labels = np.where(y < k, y, -1)
    near = conf.oof_nearness(np.asarray(vectors, np.float32), example_labels, final[:, :k].argmax(1), folds)
    correct = final[:, :k].argmax(axis=1) == y  # a mail reviewed as "none" is never right to route
    coef_conf = conf.fit_confidence(final[:, :k].max(axis=1), near, correct)
    confidence = conf.confidence(final[:, :k].max(axis=1), near, coef_conf)
    model = sel.regression(chosen_c).fit(x, y)  # type: ignore[attr-defined]
    coef, intercept = np.asarray(model.coef_), np.asarray(model.intercept_)
    if len(model.classes_) == 2:  # binary: sigmoid(a) = softmax([-a/2, a/2])
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.concatenate([-intercept / 2, intercept / 2])
    return LearnedModel(
        tuple(labels),
        np.asarray(model.classes_, dtype=int),
        coef,
        intercept,
        float(weight),
        float(temperature),
        len(y),
        none_bias,
        counts,
        float(correct.mean()),
        cal.ece(confidence, correct),
        cal.reliability(confidence, correct),
        float(chosen_c),
        examples=np.asarray(vectors, dtype=np.float16),
        example_labels=example_labels,
        confidence=coef_conf,
    )
