"""Score cache keyed by (mail text hash, label text, instruction, model).

A newsletter sent to 500 mailboxes has the same scoring text 500 times: it is scored once. The key
includes the model id and the instruction (the template), so changing either never serves stale
scores. Bounded LRU, thread-safe; hit and miss counters feed the metrics.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from worker.scoring.base import ScoreMatrix, Scorer, check_matrix


def text_key(text: str) -> str:
    """Stable short digest of a text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class CachedScorer:
    """Wraps a scorer; only the (mail, label) pairs never seen before reach it."""

    def __init__(self, inner: Scorer, maxsize: int = 10000):
        self.inner = inner
        self.model_id = inner.model_id
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[str, str, str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def _lookup(self, key: tuple[str, str, str, str]) -> float | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def _store(self, key: tuple[str, str, str, str], value: float) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        out = np.zeros((len(mails), len(labels)), dtype=np.float32)
        template = text_key(instruction or "")
        label_keys = [text_key(label) for label in labels]
        todo: dict[str, list[int]] = {}  # unique mail text -> rows that need it
        for i, mail in enumerate(mails):
            mail_key = text_key(mail)
            cached = [self._lookup((mail_key, lk, template, self.model_id)) for lk in label_keys]
            if all(value is not None for value in cached):
                out[i] = cached
                self.hits += 1
            else:
                todo.setdefault(mail, []).append(i)
        if todo:
            unique = list(todo)
            self.misses += len(unique)
            fresh = check_matrix(
                self.inner.score(unique, labels, instruction=instruction), len(unique), len(labels)
            )
            for row, mail in zip(fresh, unique, strict=True):
                mail_key = text_key(mail)
                for lk, value in zip(label_keys, row, strict=True):
                    self._store((mail_key, lk, template, self.model_id), float(value))
                for i in todo[mail]:
                    out[i] = row
        return out
