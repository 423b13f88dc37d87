"""The reviewed history, read from the database: what thresholds and the few-shot memory learn from.

A reviewed mail is a message with at least one :class:`Correction` row (approvals are rows too, with
equal old and new labels). Its *proposed* labels are the first review's ``old_labels`` (what the
router decided), its *final* labels the last review's ``new_labels`` (what the reviewers settled on),
its scores those saved with its live decision (same model and rule-set hash).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from rules import RuleSet
from worker.core.settings import Settings
from worker.db.models import Correction, Decision, Message, Score
from worker.learning.memory import Embedder, FewShotMemory, FewShotScorer, MemoryConfig, lazy_embedder
from worker.learning.thresholds import LearnedThreshold, learn_thresholds
from worker.parsing.message import parse_message
from worker.scoring.base import Scorer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reviewed:
    message_id: int
    proposed: tuple[str, ...]
    final: tuple[str, ...]
    scores: dict[str, float]


def reviewed_mails(session: Session, *, rule_set_name: str | None = None) -> list[Reviewed]:
    """Every reviewed message (decided by the rule set named ``rule_set_name``, when given), in
    review order of its first review."""
    first: dict[int, list[str]] = {}
    last: dict[int, list[str]] = {}
    query = select(Correction.message_id, Correction.old_labels, Correction.new_labels)
    if rule_set_name is not None:  # learned state is per rule set: one profile never learns from another
        query = query.join(
            Decision, (Decision.message_id == Correction.message_id) & (Decision.mode == "live")
        ).where(Decision.rule_set_name == rule_set_name)
    for message_id, old, new in session.execute(query.order_by(Correction.id)):
        first.setdefault(message_id, list(old or []))
        last[message_id] = list(new or [])
    scores: dict[int, dict[str, float]] = {mid: {} for mid in first}
    query = (
        select(Score.message_id, Score.label, Score.score)
        .join(Decision, (Decision.message_id == Score.message_id) & (Decision.mode == "live"))
        .where(
            Score.message_id.in_(list(first)),
            Score.model_id == Decision.model_id,
            Score.rule_set_hash == Decision.rule_set_hash,
        )
    )
    for message_id, label, value in session.execute(query):
        scores[message_id][label] = float(value)
    return [Reviewed(mid, tuple(first[mid]), tuple(last[mid]), scores[mid]) for mid in first]


def threshold_pairs(reviewed: list[Reviewed]) -> dict[str, list[tuple[float, bool]]]:
    """(score, kept) per proposed label: the data a label's precision is measured on."""
    pairs: dict[str, list[tuple[float, bool]]] = {}
    for mail in reviewed:
        for label in mail.proposed:
            if label in mail.scores:
                pairs.setdefault(label, []).append((mail.scores[label], label in mail.final))
    return pairs


def learned_thresholds(
    session: Session, rule_set: RuleSet, *, min_examples: int
) -> dict[str, LearnedThreshold]:
    reviewed = reviewed_mails(session, rule_set_name=rule_set.name)
    return learn_thresholds(threshold_pairs(reviewed), rule_set, min_examples=min_examples)


def learned_thresholds_for(
    session: Session, rule_set: RuleSet, settings: Settings
) -> dict[str, LearnedThreshold]:
    """Live routing's learned thresholds: none unless the rule set sets ``policy.target_precision``."""
    if rule_set.policy.target_precision is None:
        return {}
    return learned_thresholds(session, rule_set, min_examples=settings.threshold_min_examples)


def review_version(session: Session) -> tuple[int, int]:
    """Changes whenever a correction is added or removed: (max id, count)."""
    top, count = session.execute(select(func.max(Correction.id), func.count(Correction.id))).one()
    return int(top or 0), int(count or 0)


def scoring_texts(session: Session, ids: list[int], *, max_chars: int) -> dict[int, str]:
    """The text each message was scored on (re-parsed from its raw bytes, as classify does)."""
    rows = session.execute(select(Message.id, Message.raw).where(Message.id.in_(ids)))
    return {mid: parse_message(raw, max_chars=max_chars).scoring_text for mid, raw in rows}


class MemorySource:
    """Keeps a :class:`FewShotMemory` in step with the corrections table; call it before scoring.

    The check is one ``SELECT max(id), count(*)`` at most every ``interval_s``; only mails never seen
    are embedded. A database error keeps the last memory (and is logged), never fails a batch.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        memory: FewShotMemory,
        embedder: Callable[[], Embedder],
        *,
        max_chars: int = 4000,
        interval_s: float = 0.0,
    ):
        self.sessions, self.memory, self.embedder = sessions, memory, embedder
        self.max_chars, self.interval_s = max_chars, interval_s
        self.version: tuple[int, int] | None = None
        self._vectors: dict[int, np.ndarray] = {}
        self._checked = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        """Reload when corrections changed; True when it did."""
        with self._lock:
            now = time.monotonic()
            if self.version is not None and now - self._checked < self.interval_s:
                return False
            self._checked = now
            try:
                with self.sessions() as session:
                    version = review_version(session)
                    if version == self.version:
                        return False
                    self._load(session)
                    self.version = version
                    return True
            except SQLAlchemyError as e:
                log.warning("few-shot memory not refreshed: %s", type(e).__name__)
                return False

    def _load(self, session: Session) -> None:
        reviewed = [mail for mail in reviewed_mails(session) if mail.final]
        new = [mail.message_id for mail in reviewed if mail.message_id not in self._vectors]
        if new:
            texts = scoring_texts(session, new, max_chars=self.max_chars)
            found = [mid for mid in new if mid in texts]
            if found:
                vectors = self.embedder().encode([texts[mid] for mid in found])
                self._vectors.update(zip(found, vectors, strict=True))
        grouped: dict[str, list[np.ndarray]] = {}
        for mail in reviewed:
            if mail.message_id not in self._vectors:
                continue  # its message is gone
            for label in mail.final:
                grouped.setdefault(label, []).append(self._vectors[mail.message_id])
        self.memory.replace({label: np.stack(vectors) for label, vectors in grouped.items()})
        log.info("few-shot memory: %s", self.memory.counts())


def with_memory(scorer: Scorer, settings: Settings, rule_set: Callable[[], RuleSet]) -> FewShotScorer:
    """``scorer`` wrapped in a few-shot memory kept in step with the settings' database.

    The embedding backend embeds the examples itself; reranker backends get the bundled embedding
    model, loaded the first time there is an example to embed.
    """
    from worker.db.session import session_factory

    embedder = lazy_embedder(scorer, batch_size=settings.batch_size)

    config = MemoryConfig(k=settings.few_shot_k, neighbours=settings.few_shot_neighbours)
    memory = FewShotMemory(config)
    source = MemorySource(
        session_factory(settings.database_url), memory, embedder, max_chars=settings.max_chars
    )
    return FewShotScorer(scorer, memory, embedder, rule_set=rule_set, refresh=source)
