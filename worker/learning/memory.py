"""Few-shot memory: reviewed mails become examples of their labels, blended into the zero-shot scores.

For a mail with embedding ``v`` and a label with ``n`` reviewed examples::

    knn   = mean of the ``neighbours`` highest cosines between v and the label's examples
    final = (1 - w) * zero_shot + w * sigmoid(slope * (knn - midpoint)),   w = n / (n + k)

so a label with no examples scores exactly as before, and the examples count for more the more there
are (``k`` examples give half the weight). Mail-to-mail cosines run higher than mail-to-description
ones, hence a calibration midpoint of its own. Defaults were chosen on the Berkeley Enron genres
(``bench/learning.py``): among 3-, 5- and 8-neighbour means, prototypes, centred prototypes with a
softmax and a logistic-regression head, the 3-neighbour mean (midpoint 0.30, slope 5, k 20) gained
the most macro-F1 at N = 5, 10 and 20 corrections per label.

:class:`FewShotScorer` wraps any :class:`~worker.scoring.base.Scorer`, so the pipeline, the admin
playground and the evaluation share it. Label texts are mapped to category names through the live
rule set; a label the memory has no examples of is passed through untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np

from rules import RuleSet
from worker.scoring.base import ScoreMatrix, Scorer, check_matrix
from worker.scoring.registry import base_scorer, mail_embedder


class Embedder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class MemoryConfig:
    k: float = 20.0
    neighbours: int = 3
    midpoint: float = 0.30
    slope: float = 5.0


class FewShotMemory:
    """Unit-normalised example embeddings per category name; thread-safe, replaceable in one step."""

    def __init__(self, config: MemoryConfig | None = None):
        self.config = config or MemoryConfig()
        self._examples: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def add(self, label: str, vectors: np.ndarray) -> None:
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        with self._lock:
            old = self._examples.get(label)
            self._examples[label] = vectors if old is None else np.vstack([old, vectors])

    def replace(self, examples: Mapping[str, np.ndarray]) -> None:
        fresh = {k: np.atleast_2d(np.asarray(v, dtype=np.float32)) for k, v in examples.items() if len(v)}
        with self._lock:
            self._examples = fresh

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {label: len(vectors) for label, vectors in self._examples.items()}

    def weight(self, n: int) -> float:
        return n / (n + self.config.k) if n else 0.0

    def blend(self, zero_shot: np.ndarray, vectors: np.ndarray, names: Sequence[str | None]) -> np.ndarray:
        """``zero_shot`` [mails × labels] blended with the examples of each named label."""
        out = np.array(zero_shot, dtype=np.float32, copy=True)
        with self._lock:
            examples = dict(self._examples)
        cfg = self.config
        for j, name in enumerate(names):
            stored = examples.get(name) if name is not None else None
            if stored is None or not len(out):
                continue
            cosine = np.asarray(vectors, dtype=np.float32) @ stored.T
            nearest = min(cfg.neighbours, stored.shape[0])
            knn = np.sort(cosine, axis=1)[:, -nearest:].mean(axis=1)
            similar = 1.0 / (1.0 + np.exp(-cfg.slope * (knn - cfg.midpoint)))
            w = self.weight(stored.shape[0])
            out[:, j] = (1.0 - w) * out[:, j] + w * similar
        return out


def zero_shot_from_vectors(scorer: Scorer, vectors: np.ndarray, labels: Sequence[str]) -> np.ndarray | None:
    """The embedding backend's scores from mail vectors already computed (None for other backends)."""
    from worker.scoring.backends.embedding import calibrate

    base = mail_embedder(scorer)
    if base is None or not len(vectors):
        return None
    return check_matrix(calibrate(vectors @ base.label_vectors(labels).T), len(vectors), len(labels))


class FewShotScorer:
    """A scorer whose scores learn from reviewed mails; see the module docstring.

    ``refresh`` (when given) is called before each batch: it reloads the memory when corrections
    changed (``worker.learning.history.MemorySource``), so a correction counts without a restart.
    """

    def __init__(
        self,
        inner: Scorer,
        memory: FewShotMemory,
        embedder: Embedder | Callable[[], Embedder],
        *,
        rule_set: Callable[[], RuleSet] | None = None,
        refresh: Callable[[], Any] | None = None,
    ):
        self.inner = inner
        self.memory = memory
        self._embedder = embedder
        self.rule_set = rule_set
        self.refresh = refresh
        self.model_id = inner.model_id  # "+fewshot" once the memory holds examples

    @property
    def embedder(self) -> Embedder:
        if not hasattr(self._embedder, "encode"):  # a factory: build the model on first need
            self._embedder = cast(Callable[[], Embedder], self._embedder)()
        return cast(Embedder, self._embedder)

    def names_of(self, labels: Sequence[str]) -> list[str | None]:
        """Category names of label texts (by the live rule set), or the texts themselves."""
        if self.rule_set is None:
            return list(labels)
        rules = self.rule_set()
        by_text = dict(zip(rules.label_texts(), rules.category_names(), strict=True))
        return [by_text.get(text) for text in labels]

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        if self.refresh is not None:
            self.refresh()
        names = self.names_of(labels)
        counts = self.memory.counts()
        self.model_id = f"{self.inner.model_id}+fewshot" if counts else self.inner.model_id
        if not mails or not any(name in counts for name in names if name is not None):
            return self.inner.score(mails, labels, instruction=instruction)
        vectors = self.embedder.encode(list(mails))
        zero_shot = None
        if base_scorer(self.inner) is self.embedder:  # encode each mail once
            zero_shot = zero_shot_from_vectors(self.inner, vectors, labels)
        if zero_shot is None:
            zero_shot = self.inner.score(mails, labels, instruction=instruction)
        return check_matrix(self.memory.blend(zero_shot, vectors, names), len(mails), len(labels))


def lazy_embedder(scorer: Any, *, batch_size: int) -> Callable[[], Embedder]:
    """The mail embedder for learning over ``scorer``: the embedding backend under its wrappers, else
    the bundled embedding model, built on the first call (once, whichever thread asks first)."""
    base = mail_embedder(scorer)
    holder: list[Embedder] = [base] if base is not None else []
    lock = threading.Lock()

    def embedder() -> Embedder:
        with lock:
            if not holder:
                from worker.scoring.backends.embedding import EmbeddingScorer

                holder.append(EmbeddingScorer(batch_size=batch_size))
            return holder[0]

    return embedder
