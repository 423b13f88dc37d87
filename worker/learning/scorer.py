"""A scorer whose scores are calibrated probabilities, learned from the rule set's reviewed mails.

:class:`LearnedScorer` wraps any backend: it asks the backend for its scores, then returns
``LearnedModel.proba`` of the live rule set's newest learned model (the zero-shot prior while there
is none), one column per category; the mass left over is "none of these". It is the scorer every
caller of :func:`worker.pipeline.route.route` uses when learning is on, so the live worker, the
CLI, backtests and the playground decide alike.

``models(rule_set_name)`` returns the newest model (``None`` before any training); in the worker it
is a :class:`worker.learning.live.ModelSource` that polls the version per batch, so a retrain is
picked up without a restart. ``last_version`` is the learned version of the latest batch (0 =
prior only): the pipeline records it on each decision.

With a learned model and a ``memory`` of recent traffic (:class:`worker.learning.memory.TrafficMemory`)
each mail's probabilities are pooled with those of its nearest recent mails
(:mod:`worker.learning.neighbours`; reviewed ones count one-hot). :meth:`take_decided` hands the
pipeline the vectors and probabilities of this thread's latest batch, to remember with its decisions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from rules import RuleSet
from worker.learning.calibration import prior
from worker.learning.classifier import LearnedModel
from worker.learning.memory import Recent
from worker.learning.neighbours import (
    MEMORY,
    NEIGHBOURS,
    WEIGHT,
    Neighbourhood,
    fingerprint,
    pool,
    with_reviews,
)
from worker.learning.vectors import Embedder
from worker.scoring.base import ScoreMatrix, Scorer, check_matrix


class LearnedScorer:
    def __init__(
        self,
        inner: Scorer,
        embedder: Embedder | Callable[[], Embedder],
        *,
        rule_set: Callable[[], RuleSet],
        models: Callable[[str], LearnedModel | None],
        memory: Callable[[str, str], Recent] | None = None,
        neighbours: tuple[int, float] = (NEIGHBOURS, WEIGHT),
    ):
        self.inner = inner
        self._embedder = embedder
        self.rule_set = rule_set
        self.models = models
        self.memory = memory
        self.neighbours = neighbours  # (k, weight); k = 0: no pooling
        self.model_id = f"{inner.model_id}+calibrated"
        self._local = threading.local()

    @property
    def embedder(self) -> Embedder:
        if not hasattr(self._embedder, "encode"):  # a factory: build the model on first need
            self._embedder = cast(Callable[[], Embedder], self._embedder)()
        return cast(Embedder, self._embedder)

    def bind_rule_set(self, rule_set: RuleSet) -> None:
        """Score this thread's next batches with ``rule_set``'s learned model (route() calls it, so a
        batch of each routing profile gets its own rule set's model)."""
        self._local.rules = rule_set

    @property
    def last_version(self) -> int:
        """The learned version that scored this thread's latest batch (0: the prior)."""
        return int(getattr(self._local, "version", 0))

    def take_decided(self) -> tuple[str, np.ndarray, np.ndarray, int] | None:
        """(columns fingerprint, vectors, probabilities [n × (K + 1)], rows to keep per rule set: twice
        the memory's size) of this thread's latest batch, once; None when it had no vectors (a
        reranker backend before any learned model)."""
        decided = getattr(self._local, "decided", None)
        self._local.decided = None
        return decided

    def raw(self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None) -> Any:
        """The backend's own scores, and the mail embeddings when the backend computed them."""
        from worker.learning.vectors import zero_shot_from_vectors
        from worker.scoring.registry import base_scorer

        if base_scorer(self.inner) is self.embedder:  # encode each mail once
            vectors = self.embedder.encode(list(mails))
            scores = zero_shot_from_vectors(self.inner, vectors, labels)
            if scores is not None:
                return scores, vectors
        return np.asarray(self.inner.score(mails, labels, instruction=instruction)), None

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        rules = getattr(self._local, "rules", None) or self.rule_set()
        model = self.models(rules.name)
        columns = _columns(model, rules, labels) if model is not None else None
        self._local.decided = None
        key = _fingerprint(rules, labels) if self.memory is not None else ""
        if model is None or columns is None or not mails:
            self._local.version = 0
            self.model_id = f"{self.inner.model_id}+calibrated"
            if hasattr(self._embedder, "encode") and mails and self.memory is not None:
                scores, vectors = self.raw(mails, labels, instruction=instruction)  # the vectors are free
            else:
                scores, vectors = np.asarray(self.inner.score(mails, labels, instruction=instruction)), None
            probs = prior(scores)
            self._remember(key, vectors, probs)
            return check_matrix(probs[:, : len(labels)], len(mails), len(labels))
        scores, vectors = self.raw(mails, labels, instruction=instruction)
        if vectors is None:
            vectors = self.embedder.encode(list(mails))
        full = np.zeros((len(mails), len(model.labels)))
        full[:, columns] = scores  # model columns in rule-set order
        order = [*columns, len(model.labels)]  # label order, then "none"
        probs = model.proba(vectors, full)[:, order]
        k, weight = self.neighbours
        if self.memory is not None and k > 0 and weight > 0:
            recent = self.memory(rules.name, key)
            position = {c: i for i, c in enumerate(order)}
            reviewed = {m: position[c] for m, c in model.reviewed_columns().items()}
            near = Neighbourhood(recent.vectors, with_reviews(recent.probs, recent.message_ids, reviewed))
            if (
                len(near)
                and near.probs.shape[1] == probs.shape[1]
                and near.vectors.shape[1] == vectors.shape[1]
            ):
                probs = pool(probs, vectors, near, k=k, weight=weight)
        self._remember(key, vectors, probs)
        self._local.version = model.version
        self.model_id = f"{self.inner.model_id}+learned"
        return check_matrix(probs[:, : len(labels)], len(mails), len(labels))

    def _remember(self, key: str, vectors: Any, probs: np.ndarray) -> None:
        if vectors is not None and self.memory is not None:
            keep = 2 * int(getattr(self.memory, "size", MEMORY))
            self._local.decided = (key, np.asarray(vectors), probs, keep)


def _fingerprint(rules: RuleSet, labels: Sequence[str]) -> str:
    """The memory key of ``labels``' columns: their category names, in their order."""
    names = dict(zip(rules.label_texts(), rules.category_names(), strict=True))
    return fingerprint([names.get(text, text) for text in labels])


def _columns(model: LearnedModel, rules: RuleSet, labels: Sequence[str]) -> list[int] | None:
    """The model's column of each label text, None when the categories changed since training."""
    names = dict(zip(rules.label_texts(), rules.category_names(), strict=True))
    wanted = [names.get(text) for text in labels]
    if sorted(n for n in wanted if n is not None) != sorted(model.labels) or None in wanted:
        return None
    return [model.labels.index(cast(str, n)) for n in wanted]
