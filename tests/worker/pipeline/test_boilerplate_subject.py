"""A boilerplate subject is left out of the scored text, live (per profile) and in evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage

import numpy as np
from sqlalchemy import select

from rules import load_rule_set
from tests.conftest import REPO
from worker.db.models import Decision
from worker.db.session import session_factory
from worker.evaluation.evaluate import predict
from worker.evaluation.labeled import LabeledMail
from worker.pipeline.classify import classify_batch
from worker.pipeline.route import SUBJECT_LEFT_OUT
from worker.pipeline.shadow import shadow_batch
from worker.scoring.base import ScoreMatrix
from worker.store.messages import Origin, store_message

OFFICE = load_rule_set(REPO / "rules" / "examples" / "office.yaml")


class RecordingScorer:
    model_id = "recording"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def score(
        self, mails: Sequence[str], labels: Sequence[str], *, instruction: str | None = None
    ) -> ScoreMatrix:
        self.texts.extend(mails)
        return np.full((len(mails), len(labels)), 0.5, dtype=np.float32)


def raw(i: int, subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = "form@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<s{i}@example.com>"
    message.set_content(f"Body of mail {i}.")
    return bytes(message)


def test_the_third_mail_with_a_shared_subject_is_scored_without_it(sqlite_url: str) -> None:
    sessions = session_factory(sqlite_url)
    scorer = RecordingScorer()
    subjects = ["Customer request", "Customer request", "RE: customer request", "Invoice 12 is wrong"]
    with sessions.begin() as session:
        ids = [
            store_message(session, raw(i, s), Origin("a", "INBOX", 1, i)).id for i, s in enumerate(subjects)
        ]
    for batch in (ids[:2], ids[2:]):
        with sessions.begin() as session:
            assert sorted(classify_batch(session, batch, scorer, OFFICE).decided) == batch
    assert scorer.texts == [
        "Customer request\n\nBody of mail 0.",
        "Customer request\n\nBody of mail 1.",
        "Body of mail 2.",  # two stored mails of the profile and this one share the subject
        "Invoice 12 is wrong\n\nBody of mail 3.",
    ]
    with sessions() as session:
        reasons = {d.message_id: d.reasons for d in session.scalars(select(Decision))}
    assert SUBJECT_LEFT_OUT in reasons[ids[2]]
    assert all(SUBJECT_LEFT_OUT not in reasons[i] for i in (ids[0], ids[1], ids[3]))
    shadow = RecordingScorer()
    with sessions.begin() as session:
        shadow_batch(session, ids[2:], shadow, OFFICE)
    assert shadow.texts == scorer.texts[2:]  # the shadow rule set scores what live scored


def test_no_boilerplate_rule_keeps_every_subject(sqlite_url: str) -> None:
    scorer = RecordingScorer()
    with session_factory(sqlite_url).begin() as session:
        ids = [store_message(session, raw(i, "Same"), Origin("a", "INBOX", 1, i)).id for i in range(3)]
        classify_batch(session, ids, scorer, OFFICE, boilerplate_min=0)
    assert all(text.startswith("Same\n\n") for text in scorer.texts)


def test_evaluation_counts_over_the_evaluated_set_and_reports_the_scored_text() -> None:
    subjects = ["Customer request"] * 3 + ["Invoice 12 is wrong"]
    mails = [LabeledMail(f"m{i}", raw(i, s), "invoice", ("invoice",)) for i, s in enumerate(subjects)]
    scorer = RecordingScorer()
    rows = predict(mails, scorer, OFFICE, max_chars=4000, batch_size=2, progress=False)
    assert [r["scoring_text"] for r in rows] == scorer.texts
    assert [r["subject_kept"] for r in rows] == [False, False, False, True]
    assert rows[0]["scoring_text"] == "Body of mail 0." and rows[3]["scoring_text"].startswith("Invoice 12")
