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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from rules import RuleSet
from worker.learning.calibration import prior
from worker.learning.classifier import LearnedModel
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
    ):
        self.inner = inner
        self._embedder = embedder
        self.rule_set = rule_set
        self.models = models
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
        if model is None or columns is None or not mails:
            self._local.version = 0
            self.model_id = f"{self.inner.model_id}+calibrated"
            scores = np.asarray(self.inner.score(mails, labels, instruction=instruction))
            return check_matrix(prior(scores)[:, : len(labels)], len(mails), len(labels))
        scores, vectors = self.raw(mails, labels, instruction=instruction)
        if vectors is None:
            vectors = self.embedder.encode(list(mails))
        full = np.zeros((len(mails), len(model.labels)))
        full[:, columns] = scores  # model columns in rule-set order
        probs = model.proba(vectors, full)[:, columns]
        self._local.version = model.version
        self.model_id = f"{self.inner.model_id}+learned"
        return check_matrix(probs, len(mails), len(labels))


def _columns(model: LearnedModel, rules: RuleSet, labels: Sequence[str]) -> list[int] | None:
    """The model's column of each label text, None when the categories changed since training."""
    names = dict(zip(rules.label_texts(), rules.category_names(), strict=True))
    wanted = [names.get(text) for text in labels]
    if sorted(n for n in wanted if n is not None) != sorted(model.labels) or None in wanted:
        return None
    return [model.labels.index(cast(str, n)) for n in wanted]
