"""The few-shot memory: a reviewer's correction changes the next decision for a similar mail."""

from __future__ import annotations

from email.message import EmailMessage

import numpy as np
from sqlalchemy import select

from rules import Category, Policy, RuleSet
from tests.worker.learning.fakes import PreferenceScorer, WordEmbedder
from worker.db.models import Decision
from worker.db.session import session_factory
from worker.learning.history import MemorySource
from worker.learning.memory import FewShotMemory, FewShotScorer, MemoryConfig
from worker.pipeline.classify import classify_batch
from worker.review import corrections as review
from worker.store.messages import Origin, store_message

RULES = RuleSet(
    name="desk",
    categories=(
        Category("billing", "Invoices, payments and refunds"),
        Category("support", "Help with the product"),
    ),
    policy=Policy(mode="top_k"),
)
TEXTS = dict(zip(RULES.category_names(), RULES.label_texts(), strict=True))
# the zero-shot model leans to "support" for every mail
ZERO_SHOT = PreferenceScorer({TEXTS["support"]: 0.55, TEXTS["billing"]: 0.45})


def mail(i: int, subject: str, body: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "c@example.com", "desk@example.com", subject
    msg["Message-ID"] = f"<m{i}@example.com>"
    msg.set_content(body)
    return msg.as_bytes()


def test_the_weight_of_examples_grows_with_their_number() -> None:
    memory = FewShotMemory(MemoryConfig(k=10))
    weights = [memory.weight(n) for n in (0, 1, 5, 10, 50)]
    assert weights[0] == 0.0 and weights == sorted(weights) and weights[3] == 0.5


def test_labels_without_examples_score_as_before() -> None:
    embedder = WordEmbedder()
    scorer = FewShotScorer(ZERO_SHOT, FewShotMemory(), embedder, rule_set=lambda: RULES)
    texts, labels = ["invoice overdue"], RULES.label_texts()
    np.testing.assert_allclose(scorer.score(texts, labels), ZERO_SHOT.score(texts, labels))
    assert embedder.calls == 0 and scorer.model_id == "prefs"  # nothing learned: no embedding at all
    scorer.memory.add("billing", embedder.encode(["invoice payment overdue"]))
    row = scorer.score(texts, labels)[0]
    assert row[1] == np.float32(0.55) and row[0] > 0.45 and scorer.model_id == "prefs+fewshot"


def test_a_correction_changes_the_next_decision_for_a_similar_mail(sqlite_url: str) -> None:
    sessions = session_factory(sqlite_url)
    embedder = WordEmbedder()
    memory = FewShotMemory(MemoryConfig(k=1.0))
    source = MemorySource(sessions, memory, lambda: embedder)
    scorer = FewShotScorer(ZERO_SHOT, memory, embedder, rule_set=lambda: RULES, refresh=source)

    def route(i: int, subject: str, body: str) -> Decision:
        with sessions.begin() as session:
            mid = store_message(session, mail(i, subject, body), Origin("a", "INBOX", 1, i)).id
            classify_batch(session, [mid], scorer, RULES)
        with sessions() as session:
            return session.scalars(select(Decision).where(Decision.message_id == mid)).one()

    first = route(1, "Invoice 4471 overdue", "Your invoice payment for March is overdue, please pay.")
    assert first.labels == ["support"]  # the zero-shot lean
    with sessions.begin() as session:
        review.correct(session, first.message_id, ["billing"], "rita", rule_set=RULES)

    similar = route(2, "Invoice 4502 overdue", "Your invoice payment for April is overdue, please pay.")
    assert similar.labels == ["billing"] and similar.model_id == "prefs+fewshot"
    assert memory.counts() == {"billing": 1}
    other = route(3, "Cannot log in", "The app shows an error when I sign in on my phone.")
    assert other.labels == ["support"]  # an unrelated mail keeps the zero-shot lean
    assert embedder.calls == 3  # the corrected mail once; each routed mail once after the correction


def test_the_memory_reloads_only_when_corrections_change(sqlite_url: str) -> None:
    sessions = session_factory(sqlite_url)
    memory = FewShotMemory()
    source = MemorySource(sessions, memory, WordEmbedder)
    assert source() is True and memory.counts() == {}  # first look
    assert source() is False
    with sessions.begin() as session:
        mid = store_message(
            session, mail(1, "Refund", "Please refund my payment."), Origin("a", "INBOX", 1, 1)
        ).id
        classify_batch(session, [mid], ZERO_SHOT, RULES)
        review.approve(session, mid, "rita", rule_set=RULES)  # an approval is an example too
    assert source() is True and memory.counts() == {"support": 1}
    with sessions.begin() as session:
        review.correct(session, mid, ["billing"], "rita", rule_set=RULES)
    assert source() is True and memory.counts() == {"billing": 1}  # the last review wins
