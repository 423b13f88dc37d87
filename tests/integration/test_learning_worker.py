"""A real Celery worker learns from reviews without a restart: review → retrain task → next decision."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from rules import load_rule_set
from tests.conftest import REPO
from tests.integration.test_celery_worker import start_worker, wait_for, worker_env
from tests.worker.profiles_fixtures import mail
from worker.db.models import Decision, LearnedModelRow, MailVector, Score
from worker.db.session import session_factory
from worker.review import corrections as review
from worker.store.messages import Origin, store_message

pytestmark = [pytest.mark.integration, pytest.mark.slow]
RULES = REPO / "rules" / "examples" / "office.yaml"
COFFEE = "The coffee machine in the {} kitchen is empty again, could someone refill the beans?"
BUDGET = "Attached are the {} budget figures for the quarter, spending is on plan."
PLACES = ["north", "south", "east", "west", "upstairs", "downstairs", "lobby", "annex"]


def test_a_review_changes_the_next_decision_through_a_running_worker(
    postgres_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = worker_env(postgres_url, redis_url)
    env.update(MAILROUTE_BACKEND="embedding", MAILROUTE_RULES_PATH=str(RULES))
    env.pop("MAILROUTE_CONSTANT_DELAY_MS", None)
    for key in ("MAILROUTE_DATABASE_URL", "MAILROUTE_BROKER_URL"):
        monkeypatch.setenv(key, env[key])
    from worker.core.settings import get_settings

    get_settings.cache_clear()
    from worker.tasks.app import make_app

    producer, rules, sessions = make_app(), load_rule_set(RULES), session_factory(postgres_url)

    def decide(i: int, body: str) -> Decision:
        with sessions.begin() as session:
            mid = store_message(session, mail(i, "Note", body), Origin("acct", "INBOX", 1, i)).id
        producer.send_task("mailroute.classify", args=[[mid]], queue="classify")

        def found() -> Decision | None:
            with sessions() as session:
                return session.scalars(select(Decision).where(Decision.message_id == mid)).first()

        assert wait_for(lambda: found() is not None, 120), log.read_text()[-3000:]
        decision = found()
        assert decision is not None
        return decision

    log = tmp_path / "worker.log"
    proc = start_worker(env, log)
    try:
        reviewed = []
        for i, place in enumerate(PLACES):
            reviewed.append((decide(2 * i + 1, COFFEE.format(place)), "meeting notice"))
            reviewed.append((decide(2 * i + 2, BUDGET.format(place)), "project progress"))
        before = reviewed[0][0]
        assert before.labels != ["meeting notice"] and before.learned_version == 0  # the prior decided
        with sessions.begin() as session:
            for decision, label in reviewed:
                review.correct(session, decision.message_id, [label], "rita", rule_set=rules)
        producer.send_task("mailroute.retrain", queue="classify")

        def trained() -> bool:
            with sessions() as session:
                return session.scalar(select(LearnedModelRow.version)) is not None

        assert wait_for(trained, 120), log.read_text()[-3000:]
        after = decide(100, COFFEE.format("basement"))
        with sessions() as session:
            scores = dict(
                session.execute(
                    select(Score.label, Score.score).where(Score.message_id == after.message_id)
                ).all()
            )
        assert after.learned_version == 1, after.reasons
        with sessions() as session:
            from worker.learning.store import load_latest

            stored = load_latest(session, rules.name)
            assert stored is not None
            model = stored.model
        info = (scores, model.weight, model.temperature, model.none_bias, model.counts, model.confidence)
        assert max(scores, key=lambda k: scores[k]) == "meeting notice", info
        assert after.labels == ["meeting notice"], (scores, after.reasons)  # decided, or proposed
        with sessions() as session:  # every decided mail is in the traffic memory, the last one learned
            remembered = dict(session.execute(select(MailVector.message_id, MailVector.probs)).all())
        assert set(remembered) == {d.message_id for d, _ in reviewed} | {after.message_id}
        assert np.frombuffer(remembered[after.message_id], np.float32).shape == (len(rules.categories) + 1,)
        assert sorted(model.example_ids.tolist()) == sorted(d.message_id for d, _ in reviewed)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
