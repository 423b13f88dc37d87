"""Learning in the running system: train a rule set's model from the reviews, and follow new versions.

:func:`retrain` reads the reviewed mails (corrections and approvals; a mail whose final labels are
empty teaches "none of these"), scores them with the backend as it stands, fits
:func:`worker.learning.classifier.fit` and stores a new version unless the reviews are the ones the
newest version was trained on. The Celery task ``mailroute.retrain`` runs it in the background.

:class:`ModelSource` is what :class:`worker.learning.scorer.LearnedScorer` asks for the model: one
``SELECT max(version)`` per call (at most every ``interval_s``), the blob loaded only when the
version moved; a database error keeps the model it had.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from rules import RuleSet
from worker.core.settings import Settings
from worker.learning import store
from worker.learning.classifier import LearnedModel, fit
from worker.learning.history import review_version, reviewed_mails, scoring_texts
from worker.learning.memory import TrafficMemory
from worker.learning.scorer import LearnedScorer
from worker.scoring.base import Scorer
from worker.store.boilerplate import DEFAULT_MIN_SHARED

log = logging.getLogger(__name__)


def retrain(
    session: Session,
    rule_set: RuleSet,
    scorer: LearnedScorer,
    *,
    max_chars: int,
    force: bool = False,
    boilerplate_min: int = DEFAULT_MIN_SHARED,
) -> int | None:
    """Train and store a new version from the reviews; the version, or None when nothing changed.
    The mails are the texts classify scored (``boilerplate_min``: MAILROUTE_SUBJECT_BOILERPLATE_MIN)."""
    stamp = ":".join(map(str, review_version(session)))
    current = store.load_latest(session, rule_set.name)
    if current is not None and current.review_version == stamp and not force:
        return None
    names = rule_set.category_names()
    reviewed = [m for m in reviewed_mails(session) if all(label in names for label in m.final)]
    texts = scoring_texts(
        session, [m.message_id for m in reviewed], max_chars=max_chars, boilerplate_min=boilerplate_min
    )
    reviewed = [m for m in reviewed if m.message_id in texts]
    ids = [m.message_id for m in reviewed]
    labels = rule_set.label_texts()
    if reviewed:
        mails = [texts[m.message_id] for m in reviewed]
        scores, vectors = scorer.raw(mails, labels, instruction=rule_set.instruction)
        if vectors is None:
            vectors = scorer.embedder.encode(mails)
    else:
        scores, vectors = np.zeros((0, len(labels))), np.zeros((0, 1))
    y = [names.index(m.final[0]) if m.final else len(names) for m in reviewed]
    model = fit(vectors, scores, y, names)
    model.example_ids = np.array(ids if len(model.examples) else [], dtype=np.int64)
    version = store.save(session, rule_set.name, model, review_version=stamp)
    log.info(
        "learned model %s v%d: %d examples, cv accuracy %s, weight %.2f",
        rule_set.name,
        version,
        model.n_examples,
        model.cv_accuracy,
        model.weight,
    )
    return version


class ModelSource:
    """The newest learned model per rule set, re-checked at most every ``interval_s``."""

    def __init__(self, sessions: sessionmaker[Session], *, interval_s: float = 0.0):
        self.sessions, self.interval_s = sessions, interval_s
        self._models: dict[str, LearnedModel | None] = {}
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, rule_set_name: str) -> LearnedModel | None:
        with self._lock:
            now = time.monotonic()
            if rule_set_name in self._models and now - self._checked[rule_set_name] < self.interval_s:
                return self._models[rule_set_name]
            self._checked[rule_set_name] = now
            have = self._models.get(rule_set_name)
            try:
                with self.sessions() as session:
                    newest = store.latest_version(session, rule_set_name)
                    if newest and (have is None or have.version != newest):
                        stored = store.load_latest(session, rule_set_name)
                        self._models[rule_set_name] = stored.model if stored else None
                    elif not newest:
                        self._models[rule_set_name] = None
            except SQLAlchemyError as e:
                log.warning("learned model not refreshed: %s", type(e).__name__)
            return self._models.get(rule_set_name)


def with_learning(
    scorer: Scorer, settings: Settings, rule_set: Callable[[], RuleSet], *, live: bool = False
) -> LearnedScorer:
    """``scorer`` returning calibrated probabilities from the newest learned model in the database.

    The embedding backend embeds the mails itself; reranker backends get the bundled embedding
    model for the features, loaded the first time a learned model needs it. ``live`` (the worker):
    pool with the traffic memory (``MAILROUTE_NEIGHBOURS``); the CLI's eval and backtest do not.
    """
    from worker.db.session import session_factory
    from worker.learning.vectors import lazy_embedder
    from worker.scoring.registry import mail_embedder

    base = mail_embedder(scorer)
    embedder = lazy_embedder(scorer, batch_size=settings.batch_size)

    sessions = session_factory(settings.database_url)
    memory = TrafficMemory(sessions, size=settings.neighbour_memory) if live and settings.neighbours else None
    return LearnedScorer(
        scorer,
        base if base is not None else embedder,
        rule_set=rule_set,
        models=ModelSource(sessions),
        memory=memory,
        neighbours=(settings.neighbours, settings.neighbour_weight),
    )
