"""The classify step on a real database: decisions, scores and outbox rows; no double work."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage

import numpy as np
import pytest
from sqlalchemy import func, select

from rules import load_rule_set
from tests.conftest import REPO
from worker.db.models import Action, Decision, Message, Score
from worker.db.session import session_factory
from worker.pipeline.classify import classify_batch, record_batch_failure
from worker.scoring.backends.constant import ConstantScorer
from worker.scoring.base import ScoreMatrix
from worker.scoring.cache import CachedScorer
from worker.store.messages import Origin, store_message

OFFICE = load_rule_set(REPO / "rules" / "examples" / "office.yaml")


class FixedScorer:
    """Scores the category named in the mail's subject 0.9, every other 0.05."""

    model_id = "fixed"

    def __init__(self, names: Sequence[str]):
        self.names = list(names)
        self.calls = 0

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        self.calls += 1
        out = np.full((len(mails), len(labels)), 0.05, dtype=np.float32)
        for i, text in enumerate(mails):
            for j, name in enumerate(self.names):
                if name in text:
                    out[i, j] = 0.9
        return out


class BrokenScorer:
    model_id = "broken"

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        raise RuntimeError("CUDA out of memory")


def mail(i: int, subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "alice@example.com"
    msg["To"] = "bob@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<m{i}@example.com>"
    msg.set_content(f"Body of mail {i}.")
    return msg.as_bytes()


def store(url: str, subjects: list[str]) -> list[int]:
    with session_factory(url).begin() as session:
        return [
            store_message(session, mail(i, s), Origin("a", "INBOX", 1, i)).id for i, s in enumerate(subjects)
        ]


def test_batch_is_decided_with_scores_and_actions(db_url: str) -> None:
    names = OFFICE.category_names()
    ids = store(db_url, [f"About {name}" for name in names])
    scorer = FixedScorer(names)
    with session_factory(db_url).begin() as session:
        result = classify_batch(session, ids, scorer, OFFICE)
    assert sorted(result.decided) == sorted(ids) and scorer.calls == 1
    with session_factory(db_url)() as session:
        for message_id, name in zip(ids, names, strict=True):
            decision = session.scalar(select(Decision).where(Decision.message_id == message_id))
            assert decision is not None and decision.labels[0] == name
            assert decision.rule_set_hash == OFFICE.digest
            n_scores = session.scalar(select(func.count(Score.id)).where(Score.message_id == message_id))
            assert n_scores == len(names)
            message = session.get(Message, message_id)
            assert message is not None and message.status == "decided" and message.subject == f"About {name}"
        expected = sum(len(c.actions) for c in OFFICE.categories)
        assert session.scalar(select(func.count(Action.id))) == expected


def test_decided_messages_are_not_scored_twice(sqlite_url: str) -> None:
    ids = store(sqlite_url, ["a", "b", "c"])
    scorer = FixedScorer(OFFICE.category_names())
    with session_factory(sqlite_url).begin() as session:
        classify_batch(session, ids, scorer, OFFICE)
    with session_factory(sqlite_url).begin() as session:
        again = classify_batch(session, ids, scorer, OFFICE)
    assert again.decided == [] and sorted(again.skipped) == sorted(ids) and scorer.calls == 1
    with session_factory(sqlite_url)() as session:
        assert session.scalar(select(func.count(Decision.id))) == 3


def test_scoring_failure_keeps_messages_with_error_and_retryable(sqlite_url: str) -> None:
    ids = store(sqlite_url, ["x", "y"])
    with pytest.raises(RuntimeError), session_factory(sqlite_url).begin() as session:
        classify_batch(session, ids, BrokenScorer(), OFFICE)
    with session_factory(sqlite_url).begin() as session:
        assert session.scalar(select(func.count(Decision.id))) == 0  # rolled back: nothing half-done
        assert sorted(record_batch_failure(session, ids, RuntimeError("CUDA out of memory"))) == sorted(ids)
    with session_factory(sqlite_url)() as session:
        for message in session.scalars(select(Message)):
            assert message.status == "failed" and "CUDA out of memory" in (message.error or "")
            assert message.attempts == 1
    with session_factory(sqlite_url).begin() as session:
        result = classify_batch(session, ids, ConstantScorer(), OFFICE)
    assert sorted(result.decided) == sorted(ids)


def test_cache_scores_identical_text_once() -> None:
    inner = FixedScorer(["x"])
    cached = CachedScorer(inner, maxsize=100)
    labels = ["x", "y"]
    first = cached.score(["same text", "same text", "other"], labels)
    second = cached.score(["same text"], labels)
    assert inner.calls == 1 and cached.misses == 2 and cached.hits == 1
    np.testing.assert_allclose(first[0], second[0])
    cached.score(["same text"], labels, instruction="another template")
    assert inner.calls == 2  # the template is part of the key


def test_learned_threshold_holds_a_label_for_review(sqlite_url: str) -> None:
    from worker.learning.thresholds import LearnedThreshold

    names = OFFICE.category_names()
    ids = store(sqlite_url, [f"About {names[1]}"])
    strict = LearnedThreshold(names[1], 0.95, 0.5, "learned", 0.95, 40, 38, 0.95, ())
    with session_factory(sqlite_url).begin() as session:
        result = classify_batch(session, ids, FixedScorer(names), OFFICE, learned={names[1]: strict})
    assert result.action_ids == []  # held: no outbox rows
    with session_factory(sqlite_url)() as session:
        decision = session.scalar(select(Decision))
        assert decision is not None and decision.needs_review and decision.labels == [names[1]]
        assert any("learned threshold 0.95" in r for r in decision.reasons)
