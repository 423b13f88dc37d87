"""A model-free scorer: measures the pipeline around the model, and drives fast tests."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

import numpy as np

from worker.scoring.base import ScoreMatrix


class ConstantScorer:
    """Scores every pair with a deterministic pseudo-random value derived from the texts.

    Deterministic (a hash of mail and label), so repeated runs and retries decide identically, yet
    spread over [0, 1] so the rule engine exercises every branch.
    """

    model_id = "constant"

    def __init__(self, value: float | None = None, *, delay_s: float = 0.0):
        self.value = value
        self.delay_s = delay_s

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        del instruction
        if self.delay_s:
            time.sleep(self.delay_s)
        out = np.empty((len(mails), len(labels)), dtype=np.float32)
        for i, mail in enumerate(mails):
            for j, label in enumerate(labels):
                if self.value is not None:
                    out[i, j] = self.value
                else:
                    digest = hashlib.blake2b(f"{label}\x00{mail}".encode(), digest_size=4).digest()
                    out[i, j] = int.from_bytes(digest, "big") / 0xFFFFFFFF
        return out
