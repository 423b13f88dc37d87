"""Fakes for the learning tests: a bag-of-words embedder and a scorer with fixed preferences."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

import numpy as np

from worker.scoring.base import ScoreMatrix

DIM = 256


class WordEmbedder:
    """Unit vectors of hashed words: mails sharing words are similar, others near-orthogonal."""

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


class PreferenceScorer:
    """Scores every mail the same: ``prefs`` by label text (0.3 for the others)."""

    model_id = "prefs"

    def __init__(self, prefs: Mapping[str, float]):
        self.prefs = dict(prefs)

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        row = [self.prefs.get(label, 0.3) for label in labels]
        return np.tile(np.asarray(row, dtype=np.float32), (len(mails), 1))
