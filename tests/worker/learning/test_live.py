"""Learning in the running system: reviews → retrain → the next batch decides with the new version."""

from __future__ import annotations

from sqlalchemy import select

from rules import Category, Policy, RuleSet
from tests.worker.learning.fakes import PreferenceScorer, WordEmbedder
from tests.worker.profiles_fixtures import mail
from worker.db.models import Decision
from worker.db.session import session_factory
from worker.learning import store
from worker.learning.live import ModelSource, retrain
from worker.learning.scorer import LearnedScorer
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
ZERO_SHOT = PreferenceScorer({TEXTS["support"]: 0.55, TEXTS["billing"]: 0.45})  # leans to support
BILLING = ["Your invoice payment for {m} is overdue, please pay.", "Refund of the {m} invoice payment"]
SUPPORT = ["The app shows an error when I log in ({m}).", "Password reset fails with an error in {m}"]
MONTHS = ["March", "April", "May", "June"]


def test_reviews_change_the_next_decision_without_a_restart(sqlite_url: str) -> None:
    sessions = session_factory(sqlite_url)
    embedder = WordEmbedder()
    scorer = LearnedScorer(ZERO_SHOT, embedder, rule_set=lambda: RULES, models=ModelSource(sessions))
    counter = iter(range(1, 1000))

    def route(body: str) -> Decision:
        i = next(counter)
        with sessions.begin() as session:
            mid = store_message(session, mail(i, "Customer request", body), Origin("a", "INBOX", 1, i)).id
            classify_batch(session, [mid], scorer, RULES)
        with sessions() as session:
            return session.scalars(select(Decision).where(Decision.message_id == mid)).one()

    first = route(BILLING[0].format(m="January"))
    assert first.labels == ["support"] and first.learned_version == 0  # the zero-shot lean, the prior
    with sessions.begin() as session:
        assert retrain(session, RULES, scorer, max_chars=4000) == 1  # nothing reviewed: v1 is the prior
        assert retrain(session, RULES, scorer, max_chars=4000) is None  # the same reviews: no new version
    for template, label in [*((t, "billing") for t in BILLING), *((t, "support") for t in SUPPORT)]:
        for month in MONTHS:
            decided = route(template.format(m=month))
            with sessions.begin() as session:
                if label in decided.labels:
                    review.approve(session, decided.message_id, "rita", rule_set=RULES)
                else:
                    review.correct(session, decided.message_id, [label], "rita", rule_set=RULES)
    with sessions.begin() as session:
        assert retrain(session, RULES, scorer, max_chars=4000) == 2
    similar = route(BILLING[0].format(m="July"))
    assert similar.labels == ["billing"] and similar.learned_version == 2
    assert similar.model_id == "prefs+learned"
    other = route(SUPPORT[1].format(m="July"))
    assert other.labels == ["support"]
    with sessions() as session:
        stored = store.load_latest(session, "desk")
    assert stored is not None and stored.model.counts == {"billing": 8, "support": 8}
    assert stored.model.cv_accuracy is not None and stored.model.cv_accuracy > 0.9


def test_a_model_for_other_categories_is_not_used() -> None:
    import numpy as np

    from worker.learning.classifier import fit

    model = fit(np.zeros((0, 4)), np.zeros((0, 3)), [], ["a", "b", "c"])
    scorer = LearnedScorer(ZERO_SHOT, WordEmbedder(), rule_set=lambda: RULES, models=lambda name: model)
    probs = scorer.score(["invoice"], RULES.label_texts())
    assert scorer.last_version == 0 and probs.shape == (1, 2) and probs[0, 1] > probs[0, 0]
