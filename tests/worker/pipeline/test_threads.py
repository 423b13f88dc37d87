"""worker/pipeline/threads.py: a reply follows its thread's settled decision without being scored."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from sqlalchemy import select

from rules import load_rule_set
from tests.admin.builders import OFFICE_RULES, MailSpec, add_mail
from worker.db.models import Decision, Message
from worker.db.session import session_factory
from worker.pipeline.classify import classify_batch
from worker.review import corrections as review
from worker.store.messages import Origin, store_message

OFFICE = load_rule_set(OFFICE_RULES)


class CountingScorer:
    """Urgent for every mail; remembers how many mails it scored."""

    model_id = "counting"

    def __init__(self) -> None:
        self.scored: list[str] = []

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> np.ndarray:
        self.scored.extend(mails)
        return np.array([[0.95 if label.startswith("urgent") else 0.05 for label in labels] for _ in mails])


def reply(parent_mid: str, *, refs: str = "", n: int = 1) -> bytes:
    return (
        "From: ann@example.com\r\nTo: team@example.com\r\nSubject: Re: hi\r\n"
        f"Message-ID: <reply-{n}@example.com>\r\n"
        f"In-Reply-To: <{parent_mid}>\r\nReferences: {refs}\r\n\r\nthanks, done\r\n"
    ).encode()


def test_a_reply_inherits_the_corrected_labels_of_its_thread_unscored(sqlite_url: str) -> None:
    with session_factory(sqlite_url).begin() as session:
        parent = add_mail(session, MailSpec(labels=("urgent matters",)))
        review.correct(session, parent, ["customer inquiry"], "rita", rule_set=OFFICE)
        parent_mid = session.get(Message, parent).message_id  # type: ignore[union-attr]
        child = store_message(session, reply(str(parent_mid)), Origin("work", "INBOX")).id
        scorer = CountingScorer()
        result = classify_batch(session, [child], scorer, OFFICE)
    assert result.decided == [child] and scorer.scored == []
    with session_factory(sqlite_url)() as session:
        decision = session.scalars(select(Decision).where(Decision.message_id == child)).one()
    assert decision.labels == ["customer inquiry"] and not decision.needs_review
    assert decision.reasons == [f"reply in thread of #{parent}: customer inquiry"]
    assert len(result.action_ids) == 2  # the category's keyword and webhook


@pytest.mark.parametrize("threads", ["off", "rescore"])
def test_a_rule_set_can_turn_it_off_or_rescore(sqlite_url: str, threads: str) -> None:
    rules = load_rule_set(OFFICE_RULES)
    rules = type(rules)(
        **{
            **rules.__dict__,
            "policy": type(rules.policy)(
                **{**rules.policy.to_dict(), "threads": threads, "review_band": None}
            ),
        }
    )
    with session_factory(sqlite_url).begin() as session:
        parent = add_mail(session, MailSpec(needs_review=False, labels=("customer inquiry",)))
        parent_mid = session.get(Message, parent).message_id  # type: ignore[union-attr]
        child = store_message(session, reply(str(parent_mid)), Origin("work", "INBOX")).id
        scorer = CountingScorer()
        classify_batch(session, [child], scorer, rules)
        decision = session.scalars(select(Decision).where(Decision.message_id == child)).one()
    assert len(scorer.scored) == 1 and decision.labels == ["urgent matters"]


def test_a_reply_to_a_mail_waiting_for_review_is_scored(sqlite_url: str) -> None:
    with session_factory(sqlite_url).begin() as session:
        parent = add_mail(session, MailSpec(needs_review=True))
        parent_mid = session.get(Message, parent).message_id  # type: ignore[union-attr]
        child = store_message(
            session, reply("unknown@x", refs=f"<{parent_mid}> <unknown@x>"), Origin("w", "I")
        ).id
        scorer = CountingScorer()
        classify_batch(session, [child], scorer, OFFICE)
    assert len(scorer.scored) == 1
