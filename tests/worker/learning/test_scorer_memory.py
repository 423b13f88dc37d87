"""The learned scorer with a traffic memory: pooled decisions, remembered batches, through the pipeline."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sqlalchemy import func, select

from tests.worker.learning.fakes import WordEmbedder
from tests.worker.learning.test_live import BILLING, MONTHS, RULES, SUPPORT, ZERO_SHOT
from tests.worker.profiles_fixtures import mail
from worker.db.models import MailVector
from worker.db.session import session_factory
from worker.learning.classifier import fit
from worker.learning.memory import Recent, TrafficMemory
from worker.learning.neighbours import MEMORY, fingerprint
from worker.learning.scorer import LearnedScorer
from worker.pipeline.classify import classify_batch
from worker.store.messages import Origin, store_message

EMBEDDER = WordEmbedder()
TRAIN = [(t.format(m=m), 0) for t in BILLING for m in MONTHS] + [
    (t.format(m=m), 1) for t in SUPPORT for m in MONTHS
]
MODEL = fit(
    EMBEDDER.encode([t for t, _ in TRAIN]),
    ZERO_SHOT.score([t for t, _ in TRAIN], RULES.label_texts()),
    [y for _, y in TRAIN],
    RULES.category_names(),
)
THREAD = "Question about the account of Zorblax Ltd, ticket {n}"


def scorer(memory=None) -> LearnedScorer:
    return LearnedScorer(
        ZERO_SHOT, EMBEDDER, rule_set=lambda: RULES, models=lambda name: MODEL, memory=memory
    )


def test_recent_neighbours_decided_alike_change_an_unsure_decision() -> None:
    earlier = [THREAD.format(n=n) for n in range(5)]
    decided_billing = Recent(np.arange(5), EMBEDDER.encode(earlier), np.tile([0.9, 0.05, 0.05], (5, 1)))
    columns = fingerprint(RULES.category_names())
    asked = []

    def memory(name: str, cols: str) -> Recent:
        asked.append((name, cols))
        return decided_billing

    text = [THREAD.format(n=9)]
    alone = scorer().score(text, RULES.label_texts())
    pooled_scorer = scorer(memory)
    pooled = pooled_scorer.score(text, RULES.label_texts())
    assert alone[0].argmax() == 1 and pooled[0].argmax() == 0  # support alone, billing with its thread
    assert asked == [("desk", columns)]
    taken = pooled_scorer.take_decided()
    assert taken is not None and taken[0] == columns and taken[1].shape[0] == 1 and taken[2].shape == (1, 3)
    assert taken[3] == 2 * MEMORY  # a memory without a size: the default's rows are kept
    assert pooled_scorer.take_decided() is None  # handed over once


def test_a_reviewed_neighbour_counts_as_its_review() -> None:
    model = replace(MODEL, example_ids=np.arange(100, 100 + len(TRAIN)))  # the training mails' ids
    thread = Recent(np.array([100]), EMBEDDER.encode([THREAD.format(n=1)]), np.array([[0.05, 0.9, 0.05]]))
    learned = LearnedScorer(
        ZERO_SHOT, EMBEDDER, rule_set=lambda: RULES, models=lambda name: model, memory=lambda n, c: thread
    )
    probs = learned.score([THREAD.format(n=2)], RULES.label_texts())
    assert probs[0].argmax() == 0  # message 100 was reviewed billing: its decided "support" does not count


def test_the_pipeline_remembers_each_decided_mail_and_the_next_batch_reads_it(db_url: str) -> None:
    sessions = session_factory(db_url)
    learned = scorer(TrafficMemory(sessions))
    ids = []
    for batch in range(2):
        with sessions.begin() as session:
            batch_ids = [
                store_message(session, mail(n, "Hi", THREAD.format(n=n)), Origin("a", "INBOX", 1, n)).id
                for n in range(batch * 3 + 1, batch * 3 + 4)
            ]
            classify_batch(session, batch_ids, learned, RULES)
        ids += batch_ids
    with sessions() as session:
        rows = session.scalars(select(MailVector).order_by(MailVector.message_id)).all()
        assert [r.message_id for r in rows] == ids
        assert {r.rule_set_name for r in rows} == {"desk"}
        assert session.scalar(select(func.count()).select_from(MailVector)) == 6
    assert learned.memory is not None
    assert learned.memory("desk", fingerprint(RULES.category_names())).message_ids.tolist() == ids


def test_neighbours_of_another_embedding_size_are_ignored_not_fatal() -> None:
    other = Recent(np.arange(3), np.ones((3, 4), np.float32) / 2, np.tile([0.9, 0.05, 0.05], (3, 1)))
    text = [THREAD.format(n=9)]
    alone = scorer().score(text, RULES.label_texts())
    assert np.allclose(scorer(lambda n, c: other).score(text, RULES.label_texts()), alone)


def test_the_table_keeps_twice_the_configured_memory(sqlite_url: str, monkeypatch) -> None:
    from worker.learning import memory as mem

    monkeypatch.setattr(mem, "PRUNE_EVERY", 1)  # every batch prunes
    sessions = session_factory(sqlite_url)
    learned = scorer(TrafficMemory(sessions, size=2))
    for n in range(1, 7):
        with sessions.begin() as session:
            mid = store_message(session, mail(n, "Hi", THREAD.format(n=n)), Origin("a", "INBOX", 1, n)).id
            classify_batch(session, [mid], learned, RULES)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(MailVector)) == 4
