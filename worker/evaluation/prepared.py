"""A labeled set prepared for a simulated review: put in time order and scored once.

Time order: the Berkeley Enron files carry no reliable dates (forwarded and re-sent copies keep
old ones), so mails are replayed in the order of their numeric message id (``N/ID.txt`` → ``ID``),
the order the corpus numbered them in; other keys (CSV rows) sort by a fixed hash of the key, so
every run replays the same history and no label's rows come first.

:func:`prepare` parses every mail once, embeds its scored text and takes the backend's zero-shot
scores, so each point of the learning curve (:mod:`worker.evaluation.simulate`) reuses them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rules import MessageFacts, RuleSet
from worker.evaluation.evaluate import SCORE_CHUNK
from worker.evaluation.labeled import LabeledMail
from worker.learning.vectors import Embedder, zero_shot_from_vectors
from worker.scoring.base import Scorer
from worker.store.boilerplate import DEFAULT_MIN_SHARED, keep_in_set

_ID = re.compile(r"(\d+)\.[^/]*$")


def time_key(key: str) -> tuple[int, str]:
    """Replay order: the numeric message id of ``N/ID.txt`` keys, else a fixed hash of the key."""
    match = _ID.search(key)
    return (int(match.group(1)), key) if match else (-1, hashlib.sha256(key.encode()).hexdigest())


@dataclass(frozen=True)
class Prepared:
    """A labeled set scored once: time-ordered mails, their backend scores and embeddings."""

    mails: list[LabeledMail]
    names: list[str]
    facts: list[MessageFacts]
    zero_shot: np.ndarray
    vectors: np.ndarray
    groups: np.ndarray | None = None  # the label each mail is reviewed under; default its gold column

    def review_groups(self) -> np.ndarray:
        """What "N corrections per label" counts: the data set's labels, out-of-scope ones included
        (each left-out label's mails are reviewed as "none" in proportion to their traffic)."""
        return self.gold_columns() if self.groups is None else self.groups

    def gold_columns(self) -> np.ndarray:
        """Each mail's gold column; ``len(names)`` for "no label" and labels outside the rule set."""
        k = len(self.names)
        return np.array([self.names.index(m.gold) if m.gold in self.names else k for m in self.mails])


def prepare(
    mails: Sequence[LabeledMail],
    scorer: Scorer,
    embedder: Embedder,
    rule_set: RuleSet,
    *,
    max_chars: int,
    boilerplate_min: int = DEFAULT_MIN_SHARED,
) -> Prepared:
    from worker.parsing.message import parse_message
    from worker.pipeline.route import facts_of

    ordered = sorted(mails, key=lambda mail: time_key(mail.key))
    parsed = [parse_message(mail.raw, max_chars=max_chars) for mail in ordered]
    keep = keep_in_set([p.subject for p in parsed], min_shared=boilerplate_min)
    texts = [p.scored_text(keep_subject=k) for p, k in zip(parsed, keep, strict=True)]
    vectors = np.vstack(
        [embedder.encode(texts[i : i + SCORE_CHUNK]) for i in range(0, len(texts), SCORE_CHUNK)]
    )
    labels = rule_set.label_texts()
    zero_shot = zero_shot_from_vectors(scorer, vectors, labels)
    if zero_shot is None:
        chunks = range(0, len(texts), SCORE_CHUNK)
        zero_shot = np.vstack(
            [
                scorer.score(texts[i : i + SCORE_CHUNK], labels, instruction=rule_set.instruction)
                for i in chunks
            ]
        )
    names = rule_set.category_names()
    return Prepared(ordered, names, [facts_of(p) for p in parsed], zero_shot, vectors)
